"""Causes outside the code, named from the errors' words: an upstream API's 5xx or timeouts, DNS,
TLS, a database or queue that cannot be reached, quota or rate limits, the host's resources.

`external_cause(text)` gives (kind, description) for an error's text, or None when it reads as an
error of the code itself. The description names the dependency when the text does (a host, an URL).
"""

from __future__ import annotations

import re

__all__ = ["describe", "external_cause"]

KINDS = (
    ("dns", re.compile(
        r"(?i)no such host|Name or service not known|getaddrinfo|Temporary failure in name resolution|"
        r"nodename nor servname|NXDOMAIN|gaierror|UnknownHostException|ENOTFOUND|EAI_AGAIN|could not resolve host|"
        r"failed to lookup address|dns error|lookup \S+ on \S+: ")),
    ("tls", re.compile(
        r"(?i)certificate verify failed|x509: |SSLHandshakeException|PKIX path building failed|CERT_HAS_EXPIRED|"
        r"certificate has expired|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SSL(?:Error|: )|tls: |handshake failure|"
        r"self[- ]signed certificate|OpenSSL::SSL::SSLError|AuthenticationException: The remote certificate")),
    ("rate-limit", re.compile(
        r"(?i)too many requests|rate[ _-]?limit|quota|RESOURCE_EXHAUSTED|Throttl|RequestLimitExceeded|SlowDown|"
        r"(?:status|code|HTTP)\D{0,12}429\b|\b429 ")),
    ("database", re.compile(
        r"(?i)could not connect to server|Communications link failure|CannotGetJdbcConnection|"
        r"HikariPool\S* - Connection is not available|PSQLException|SQLSTATE\[HY000\] \[2002\]|PG::ConnectionBad|"
        r"Mysql2::Error::ConnectionError|ConnectionNotEstablished|\bpq: |Npgsql|MongoServerSelectionError|"
        r"(?:redis|amqp|rabbitmq|kafka|broker|postgres|mysql|mongo)\S*\W.{0,60}(?:refused|unreachable|timed? ?out|reset)|"
        r"(?:refused|unreachable|timed? ?out).{0,60}\b(?:redis|amqp|rabbitmq|kafka|broker|postgres|mysql|mongo|database)\b|"
        r":(?:5432|3306|6379|27017|5672|9092)\b.{0,40}(?:refused|timed? ?out|reset|unreachable)")),
    ("upstream-5xx", re.compile(
        r"(?i)(?:status(?: code)?|HTTP|returned|responded with|answered|response)\W{0,3}5\d\d\b|"
        r"\b5\d\d (?:Bad Gateway|Service Unavailable|Gateway Time-?out|Internal Server Error)|Bad Gateway|"
        r"Service ?Unavailable|InternalServerError|upstream connect error|overloaded|APIStatusError")),
    ("timeout", re.compile(
        r"(?i)timed? ?out|deadline exceeded|ETIMEDOUT|ESOCKETTIMEDOUT|SocketTimeoutException|ReadTimeout|"
        r"ConnectTimeout|OpenTimeout|i/o timeout|HttpClient\.Timeout")),
    ("connection", re.compile(
        r"(?i)connection refused|ConnectionRefusedError|ECONNREFUSED|Connection reset|ECONNRESET|No route to host|"
        r"Network is unreachable|EHOSTUNREACH|ConnectException|broken pipe|EPIPE|socket hang up|error sending request|"
        r"tcp connect error|Connection closed by peer")),
    ("resources", re.compile(r"(?i)No space left on device|Too many open files|Cannot allocate memory")),
)  # fmt: skip
TARGET = re.compile(
    r"https?://(?P<url>[\w.\-]+(?::\d+)?)|\blookup (?P<lookup>[\w.\-]+)|\bdial tcp (?P<dial>[\w.\-\[\]:]+?):? |"
    r"(?P<host>\b(?:[a-z][\w\-]*\.)+[a-z]{2,}(?::\d+)?|\b\d{1,3}(?:\.\d{1,3}){3}:\d+)\b(?![.\w])"
)
CODE_FILE = re.compile(r"(?i)\.(?:py|java|kt|go|js|ts|rb|cs|rs|php)(?::\d+)?$")
DESCRIPTIONS = {
    "dns": "DNS resolution failing{for_target}",
    "tls": "TLS or certificate failures{with_target}",
    "rate-limit": "quota or rate limits{at_target}",
    "database": "a database or queue that cannot be reached{at_target}",
    "upstream-5xx": "an upstream API answering with 5xx errors{at_target}",
    "timeout": "timeouts waiting on a dependency{at_target}",
    "connection": "a dependency refusing or dropping connections{at_target}",
    "resources": "the host running out of disk, memory or file handles",
}


def external_cause(text: str) -> tuple[str, str | None] | None:
    """(kind, target) when the error's text reads as a failure of something outside the code."""
    for kind, pattern in KINDS:
        if pattern.search(text):
            return kind, _target(text)
    return None


def describe(kind: str, target: str | None) -> str:
    """The cause in words: "DNS resolution failing for payments.internal"."""
    template = DESCRIPTIONS.get(kind, "a dependency outside the code failing{at_target}")
    return template.format(
        for_target=f" for {target}" if target else "",
        with_target=f" with {target}" if target else "",
        at_target=f" ({target})" if target else "",
    )


def _target(text: str) -> str | None:
    for match in TARGET.finditer(text):
        found = next(value for value in match.groups() if value)
        if not CODE_FILE.search(found):
            return found.strip("[]")
    return None
