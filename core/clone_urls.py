"""Which clone URLs the rules file may name (pure string checks, no I/O).

Clone URLs come only from the rules file, never from a payload; these checks also keep git from
reading a URL as an option or a helper transport (`-…`, `ext::`).
"""

from __future__ import annotations

import re

CLONE_SCHEMES = ("https", "http", "ssh", "git", "file")
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)", re.DOTALL)
_SCP_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._~-]*@[A-Za-z0-9][A-Za-z0-9.-]*:.+")


PLAINTEXT_SCHEMES = ("http", "git")
"""Schemes with no transport security: anyone on the path could serve other commits."""


def clone_url_problem(url: str, *, insecure_allowed: bool = False) -> str | None:
    """Why `url` is not a clone URL we accept, or None (pure string checks); plaintext
    http:// and git:// only with `insecure_allowed` (the repository's insecure_clone_url)."""
    if not url:
        return "clone_url is empty"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "clone_url must not contain whitespace or control characters"
    if url.startswith("-"):
        return "clone_url must not start with '-'"
    if "::" in url:
        return "clone_url must not use a transport::address form (like ext::)"
    scheme = _SCHEME_RE.fullmatch(url)
    if scheme is not None:
        if scheme.group(1).lower() not in CLONE_SCHEMES:
            allowed = ", ".join(CLONE_SCHEMES)
            return f"clone_url scheme {scheme.group(1)!r} is not allowed (allowed: {allowed})"
        if not scheme.group(2).strip("/"):
            return "clone_url has no host or path"
        if scheme.group(2).split("/", 1)[0].rpartition("@")[2].startswith("-"):
            return "clone_url host must not start with '-'"
        if scheme.group(1).lower() in PLAINTEXT_SCHEMES and not insecure_allowed:
            return (f"clone_url uses plaintext {scheme.group(1).lower()}://; use https:// or "
                    "ssh://, or set insecure_clone_url: true to accept it")
        return None
    if _SCP_RE.fullmatch(url):
        return None
    return "clone_url must be a URL (https://, ssh://, git://, file:///path) or user@host:path; " \
        "plain local paths are refused"


def url_host(url: str) -> str | None:
    """The host a clone URL reaches (lower-cased, without user or port); "" for file:// URLs;
    None for relative URLs (`../sibling.git`), which git resolves against the superproject."""
    if url.startswith(("./", "../")):
        return None
    scheme = _SCHEME_RE.fullmatch(url)
    if scheme is not None:
        authority = scheme.group(2).split("/", 1)[0].rpartition("@")[2]
        if authority.startswith("["):
            return authority.partition("]")[0].lstrip("[").lower()
        return authority.partition(":")[0].lower()
    if _SCP_RE.fullmatch(url):
        return url.partition("@")[2].partition(":")[0].lower()
    return url.lower()
