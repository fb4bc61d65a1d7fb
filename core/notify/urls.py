"""Which outgoing URLs Autobuild accepts, and how they are shown (no I/O).

https everywhere; plain http only to a loopback host (127.0.0.0/8, ::1, localhost), or to any
host with `insecure: true`. A URL written in the rules file never carries a credential (no
user:password@, no query string): a URL that does is written as `${VAR}` and stays a secret.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from core.credentials import SecretRef


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def scheme_problem(url: str, *, insecure: bool) -> str | None:
    """Why `url` may not be called (scheme, host), or None."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("https", "http") or not host:
        return "must be an https:// URL with a host"
    if parts.scheme == "http" and not insecure and not is_loopback(host):
        return ("uses plain http: allowed only to a loopback host (127.0.0.1, ::1, localhost) "
                "or with insecure: true")
    return None


def literal_url_problem(url: str, *, insecure: bool) -> str | None:
    """Why a URL written literally in the rules file is refused, or None."""
    problem = scheme_problem(url, insecure=insecure)
    if problem is not None:
        return problem
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        return ("must not contain credentials (user:password@); write the whole URL as "
                "${VARIABLE}, or use token / secret")
    if parts.query or parts.fragment:
        return ("must not have a query string or fragment (they often carry a token); write "
                "a URL that carries a credential as ${VARIABLE}")
    return None


def without_trailing_slash(url: str) -> str:
    """`url` without trailing slashes, so paths can be appended."""
    return url.rstrip("/")


def describe_url(url: str | None, url_ref: SecretRef | None) -> str:
    """A literal URL as it is, a URL that is a secret as `${NAME}`: safe to show anywhere."""
    if url is not None:
        return url
    assert url_ref is not None
    return url_ref.describe()
