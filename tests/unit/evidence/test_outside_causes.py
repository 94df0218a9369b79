"""Causes outside the code named in words; a configuration-only change at the onset ranked above code
commits that did not touch the failing frames."""

import pytest

from wave_sandbox.evidence.external_causes import describe, external_cause


@pytest.mark.parametrize(
    ("text", "kind", "target"),
    [
        ("java.net.UnknownHostException: payments.internal", "dns", "payments.internal"),
        ("dial tcp: lookup ledger.invalid on 10.96.0.10:53: no such host", "dns", "ledger.invalid"),
        ("getaddrinfo ENOTFOUND api.stripe.example", "dns", "api.stripe.example"),
        ("x509: certificate has expired or is not yet valid", "tls", None),
        ("javax.net.ssl.SSLHandshakeException: PKIX path building failed", "tls", None),
        ("AxiosError: Request failed with status code 429", "rate-limit", None),
        ("ThrottlingException: Rate exceeded", "rate-limit", None),
        ("HikariPool-1 - Connection is not available, request timed out after 30000ms.", "database", None),
        ("PG::ConnectionBad: could not connect to server: Connection refused", "database", None),
        ("label API https://labels.carrier.example answered 503 Service Unavailable", "upstream-5xx", "labels.carrier.example"),
        ("anthropic.InternalServerError: Error code: 529 - overloaded", "upstream-5xx", None),
        ("Net::ReadTimeout with #<TCPSocket:(closed)>", "timeout", None),
        ("connect ECONNREFUSED 10.0.0.5:6379", "connection", "10.0.0.5:6379"),
        ("OSError: [Errno 28] No space left on device", "resources", None),
    ],
)  # fmt: skip
def test_errors_that_point_outside_the_code(text, kind, target):
    assert external_cause(text) == (kind, target)


@pytest.mark.parametrize(
    "text",
    ["TypeError: Cannot read properties of undefined (reading 'cents')", "java.lang.ArithmeticException: / by zero",
     "KeyError: 'credit_cents'", "panic: runtime error: index out of range [0] with length 0"],
)  # fmt: skip
def test_errors_of_the_code_itself_name_no_outside_cause(text):
    assert external_cause(text) is None


def test_the_cause_in_words():
    assert describe("dns", "ledger.invalid") == "DNS resolution failing for ledger.invalid"
    assert describe("upstream-5xx", None) == "an upstream API answering with 5xx errors"
