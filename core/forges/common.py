"""Helpers every forge adapter shares: header lookups and payload field checks (no I/O)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.errors import PayloadError
from core.events import ZERO_SHA

MAX_NAME_BYTES = 255
"""Refs and repository names longer than this (in UTF-8) are refused: git caps ref names at
255 bytes, and nothing a stranger sends should grow the delivery log without bound."""
MAX_TEXT = 4096
"""Display-only text (commit messages, pushers' names) is cut to this many characters."""

_SHA_RE = re.compile(r"[0-9a-fA-F]{40}", re.ASCII)
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FILE_LISTS = ("added", "removed", "modified")


def header_or_none(headers: Mapping[str, str], name: str) -> str | None:
    """The stripped value of header `name`, looked up case-insensitively; None when absent."""
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return value.strip() if isinstance(value, str) else None


def header(headers: Mapping[str, str], name: str) -> str:
    """The value of header `name`, looked up case-insensitively; "" when absent."""
    return header_or_none(headers, name) or ""


def first_header(headers: Mapping[str, str], *names: str) -> str:
    """The value of the first of `names` that is present and non-empty; "" when none is."""
    for name in names:
        value = header(headers, name)
        if value:
            return value
    return ""


def obj(value: object, where: str) -> dict[str, Any]:
    """`value` if it is a JSON object; PayloadError naming `where` when missing or not one."""
    if value is None:
        raise PayloadError(f"missing {where}")
    if not isinstance(value, dict):
        raise PayloadError(f"{where} is not an object")
    return value


def optional_obj(value: object, where: str) -> dict[str, Any] | None:
    """`value` if it is a JSON object, None when it is null or absent."""
    return None if value is None else obj(value, where)


def name(value: object, where: str) -> str:
    """A required, non-empty string without control characters (a ref, repository, ...)."""
    if value is None:
        raise PayloadError(f"missing {where}")
    if not isinstance(value, str):
        raise PayloadError(f"{where} is not a string")
    if not value:
        raise PayloadError(f"{where} is empty")
    if _CONTROL_RE.search(value):
        raise PayloadError(f"{where} contains control characters")
    return bounded(value, where)


def bounded(value: str, where: str) -> str:
    """`value` when it is valid text of at most MAX_NAME_BYTES bytes, else PayloadError."""
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise PayloadError(f"{where} is not valid text (it holds a lone surrogate)") from None
    if size > MAX_NAME_BYTES:
        raise PayloadError(f"{where} is {size} bytes long; at most {MAX_NAME_BYTES} are allowed")
    return value


def sha(value: object, where: str) -> str | None:
    """A required 40-hex commit SHA in lower case; None when it is all zeros."""
    if value is None:
        raise PayloadError(f"missing {where}")
    if not isinstance(value, str) or not _SHA_RE.fullmatch(value):
        raise PayloadError(f"{where} is not a 40-character hex SHA")
    return None if value == ZERO_SHA else value.lower()


def flag(payload: Mapping[str, Any], key: str) -> bool | None:
    """A boolean field; None when absent or null, PayloadError when it is something else."""
    value = payload.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise PayloadError(f"{key} is not a boolean")


def text(value: object) -> str:
    """`value` if it is a string (cut to MAX_TEXT, lone surrogates replaced), else "" (for
    display-only fields such as messages)."""
    if not isinstance(value, str):
        return ""
    return value[:MAX_TEXT].encode("utf-8", "replace").decode("utf-8")


def plain_text(*values: object) -> str:
    """The first non-empty string among `values` with control characters removed, or ""."""
    for value in values:
        if isinstance(value, str) and value:
            return text(_CONTROL_RE.sub("", value))[:MAX_NAME_BYTES]
    return ""


def changed_files(commits: object) -> tuple[str, ...] | None:
    """The union of the commits' added/removed/modified paths in order; None if malformed."""
    if not isinstance(commits, list):
        return None
    files: dict[str, None] = {}
    for commit in commits:
        if not isinstance(commit, dict):
            return None
        for key in _FILE_LISTS:
            paths = commit.get(key, [])
            if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
                return None
            files.update(dict.fromkeys(paths))
    return tuple(files)


def message_of(commits: object, sha_: str | None) -> str:
    """The message of the listed commit whose id is `sha_`, or ""."""
    if sha_ is None or not isinstance(commits, list):
        return ""
    for commit in commits:
        if isinstance(commit, dict) and commit.get("id") == sha_:
            return text(commit.get("message"))
    return ""


def full_name(payload: Mapping[str, Any], *, required: bool) -> str | None:
    """`repository.full_name` (GitHub, Gitea, Bitbucket Cloud); None if absent and not required."""
    if payload.get("repository") is None and not required:
        return None
    return required_full_name(payload)


def required_full_name(payload: Mapping[str, Any]) -> str:
    """`repository.full_name`, or PayloadError naming what is missing."""
    repository = obj(payload.get("repository"), "repository")
    return name(repository.get("full_name"), "repository.full_name")
