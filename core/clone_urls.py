"""Which clone URLs the rules file may name (pure string checks, no I/O).

Clone URLs come only from the rules file, never from a payload; these checks also keep git from
reading a URL as an option or a helper transport (`-…`, `ext::`).
"""

from __future__ import annotations

import re

CLONE_SCHEMES = ("https", "http", "ssh", "git", "file")
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)", re.DOTALL)
_SCP_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._~-]*@[A-Za-z0-9][A-Za-z0-9.-]*:.+")


def clone_url_problem(url: str) -> str | None:
    """Why `url` is not a clone URL we accept, or None (pure string checks)."""
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
        return None
    if _SCP_RE.fullmatch(url):
        return None
    return "clone_url must be a URL (https://, ssh://, git://, file:///path) or user@host:path; " \
        "plain local paths are refused"
