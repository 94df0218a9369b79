"""Wave's `{{ forge.* }}` variables, derived as text from the repository's remote URL.

As Wave's `forge.DetectFromGitRemotesWithOverride`: the fetch URL of `origin` (else of the first
remote) gives host, owner and repo; the host names the forge (github.com, gitlab.com, bitbucket.org,
a host containing gitea/forgejo, codeberg.org); `metadata.forge` in wave.yaml overrides the type;
`local`/`none`, or a repository without remotes, is the local forge, except that an override names
the forge of a repository without remotes too (Wave's doc comment says an override "bypasses hostname
matching"; its code falls back to local there, which makes `{{ forge.type }}-analyst` unusable in any
checkout without a remote, such as an extracted copy). Unlike Wave, an unknown host is
never probed over the network (it stays `unknown`), git is not run (`.git/config` is read as text,
includes not followed), and credentials in the URL are dropped: only host, owner and repo are kept,
and only when they are plain names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REMOTE_SECTION = re.compile(r'^\s*\[\s*remote\s+"([^"]+)"\s*\]\s*$')
ANY_SECTION = re.compile(r"^\s*\[")
URL_LINE = re.compile(r"^\s*url\s*=\s*(\S+)\s*$", re.IGNORECASE)
PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_CONFIG_BYTES = 256 * 1024

FORGE_METADATA = {  # type -> (cli_tool, prefix, pr_term, pr_command), as Wave's forgeMetadata
    "github": ("gh", "gh", "Pull Request", "pr"),
    "gitlab": ("glab", "gl", "Merge Request", "mr"),
    "bitbucket": ("bb", "bb", "Pull Request", "pr"),
    "gitea": ("tea", "gt", "Pull Request", "pr"),
    "forgejo": ("tea", "gt", "Pull Request", "pr"),
    "codeberg": ("tea", "gt", "Pull Request", "pr"),
    "local": ("", "local", "", ""),
}


@dataclass(frozen=True)
class ForgeInfo:
    type: str
    host: str = ""
    owner: str = ""
    repo: str = ""

    def variables(self) -> dict[str, str]:
        cli, prefix, pr_term, pr_command = FORGE_METADATA.get(self.type, ("", "", "", ""))
        return {
            "forge.type": self.type, "forge.host": self.host, "forge.owner": self.owner, "forge.repo": self.repo,
            "forge.cli_tool": cli, "forge.prefix": prefix, "forge.pr_term": pr_term, "forge.pr_command": pr_command,
        }


def detect_forge(repo: Path, override: str = "") -> ForgeInfo:
    """The repository's forge, as Wave detects it, from text only."""
    if override.lower() in ("local", "none"):
        return ForgeInfo("local")
    url = remote_fetch_url(repo)
    if not url:
        return ForgeInfo(override.lower()) if override else ForgeInfo("local")
    host, owner, name = parse_remote_url(url)
    if not host:
        return ForgeInfo("unknown")
    kind = override.lower() if override else classify_host(host)
    return ForgeInfo(kind, host, owner, name)


def remote_fetch_url(repo: Path) -> str:
    """`remote.origin.url`, else the first remote's url, from `.git/config` (empty when there is none)."""
    config = repo / ".git" / "config"
    try:
        if not config.is_file() or config.stat().st_size > MAX_CONFIG_BYTES:
            return ""
        text = config.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    urls = _remote_urls(text)
    return urls.get("origin") or next(iter(urls.values()), "")


def _remote_urls(text: str) -> dict[str, str]:
    urls: dict[str, str] = {}
    remote = None
    for line in text.splitlines():
        section = REMOTE_SECTION.match(line)
        if section or ANY_SECTION.match(line):
            remote = section.group(1) if section else None
            continue
        url = URL_LINE.match(line)
        if remote and url and remote not in urls:
            urls[remote] = url.group(1)
    return urls


def parse_remote_url(url: str) -> tuple[str, str, str]:
    """(host, owner, repo) of an SSH or HTTPS remote; userinfo (a token) is dropped, never returned."""
    url = url.strip()
    for scheme in ("https://", "http://", "ssh://", "git://"):
        if url.startswith(scheme):
            return _host_path(url[len(scheme):])
    if "@" in url and ":" in url.split("@", 1)[1]:
        host, path = url.split("@", 1)[1].split(":", 1)
        return _plain(host, *(path.removesuffix(".git").split("/", 1) + [""])[:2])
    return "", "", ""


def _host_path(rest: str) -> tuple[str, str, str]:
    host_part, _, path = rest.partition("/")
    host = host_part.rsplit("@", 1)[-1].split(":", 1)[0]
    parts = (path.removesuffix(".git").split("/", 1) + ["", ""])[:2]
    return _plain(host, parts[0], parts[1])


def _plain(host: str, owner: str, name: str) -> tuple[str, str, str]:
    """Keep each part only when it is a plain name (nothing that could carry a secret or markup)."""
    return tuple(part if PLAIN_NAME.match(part) else "" for part in (host, owner, name))  # type: ignore[return-value]


def classify_host(host: str) -> str:
    h = host.lower()
    for domain, kind in (("github.com", "github"), ("gitlab.com", "gitlab"), ("bitbucket.org", "bitbucket"),
                         ("codeberg.org", "codeberg")):
        if h == domain or h.endswith("." + domain):
            return kind
    if "gitea" in h:
        return "gitea"
    if "forgejo" in h:
        return "forgejo"
    return "unknown"
