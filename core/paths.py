"""Path-filter globs and safe repository-relative paths for rules (no I/O).

Globs are matched against the whole repository-relative path (Cloud Build style, not fnmatch):
`*` matches within one path segment, `?` one character other than "/", `[abc]`/`[!abc]` one
character of a set, and a whole `**` segment matches zero or more segments (`**/*.md`, `docs/**`,
`a/**/b`). A pattern is anchored at the repository root: `*.md` matches only `README.md`, not
`docs/a.md`; write `**/*.md` for every level. A leading "/" is ignored; "\\" escapes a character.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Sequence
from typing import Any

from core.regex import RegexError, compile_regex


@functools.lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> Any:
    """The compiled (RE2, linear-time) regular expression for one glob pattern."""
    pattern = pattern.lstrip("/")
    if pattern.endswith("/"):
        pattern += "**"
    segments: list[str] = []
    for segment in pattern.split("/"):
        if segment and not (segment == "**" and segments[-1:] == ["**"]):
            segments.append(segment)
    regex = ""
    for i, segment in enumerate(segments):
        if segment == "**":
            if i == len(segments) - 1:
                regex += "(?:/.*)?" if i else ".*"
            else:
                regex += "/(?:.*/)?" if i else "(?:.*/)?"
        else:
            if i and segments[i - 1] != "**":
                regex += "/"
            regex += _segment_regex(segment)
    return compile_regex(regex, dot_matches_newline=True)


def _segment_regex(segment: str) -> str:
    """The regex for one path segment of a glob (no "/" inside)."""
    out: list[str] = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "\\" and i + 1 < len(segment):
            out.append(re.escape(segment[i + 1]))
            i += 2
            continue
        if char == "*":
            while i + 1 < len(segment) and segment[i + 1] == "*":
                i += 1
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and (end := _class_end(segment, i)) != -1:
            body = segment[i + 1 : end]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            escaped = "".join("\\" + c if c in "\\^[]" else c for c in body)
            out.append(f"[^/{escaped}]" if negate else f"[{escaped}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _class_end(segment: str, start: int) -> int:
    """The index of the "]" closing the character class opened at `start`, or -1."""
    j = start + 1
    if segment[j : j + 1] in ("!", "^") and j < len(segment):
        j += 1
    if segment[j : j + 1] == "]":
        j += 1
    return segment.find("]", j)


def glob_problem(pattern: str) -> str | None:
    """Why `pattern` is not a usable path glob, or None."""
    if not pattern.strip():
        return "path glob is empty"
    if "\x00" in pattern or any(ord(c) < 32 for c in pattern):
        return f"path glob {pattern!r} contains control characters"
    if ".." in pattern.split("/"):
        return f"path glob {pattern!r} contains a '..' segment"
    try:
        compile_glob(pattern)
    except (RegexError, ValueError) as exc:
        return f"path glob {pattern!r} is invalid: {exc}"
    return None


def path_matches(path: str, pattern: str) -> bool:
    """Whether repository-relative `path` matches glob `pattern`."""
    return compile_glob(pattern).fullmatch(path.lstrip("/")) is not None


def _first_match(path: str, patterns: Sequence[str]) -> str | None:
    """The first pattern `path` matches, or None."""
    return next((p for p in patterns if path_matches(path, p)), None)


def files_pass_filter(
    files: Sequence[str], *, included: Sequence[str], ignored: Sequence[str]
) -> tuple[bool, str]:
    """Whether changed `files` trigger a build under Cloud Build's rules, and why.

    Ignored files are dropped first; nothing left means no build. If `included` is set, at
    least one remaining file must match it. No filters at all always builds; with a filter,
    a change that lists no file at all does not build.
    """
    if not included and not ignored:
        return True, "no path filters"
    if not files:
        return False, "the push changed no files"
    remaining = [f for f in files if _first_match(f, ignored) is None]
    if not remaining:
        return False, f"every changed file matches ignored_files ({', '.join(ignored)})"
    if not included:
        return True, f"{remaining[0]} is not ignored"
    for path in remaining:
        pattern = _first_match(path, included)
        if pattern is not None:
            return True, f"{path} matches included_files {pattern}"
    patterns = ", ".join(included)
    return False, f"no changed file outside ignored_files matches included_files ({patterns})"


def build_path_problem(path: str, *, what: str) -> str | None:
    """Why a rule's `dockerfile` or `context` value is unsafe, or None."""
    if "\x00" in path or any(ord(c) < 32 or ord(c) == 127 for c in path):
        return f"{what} must not contain NUL or control characters"
    if "\\" in path:
        return f"{what} must not contain backslashes; use '/'"
    if ".." in path.split("/"):
        return f"{what} must not contain '..' segments"
    if what == "dockerfile":
        if path.startswith("/"):
            return "dockerfile must be relative (to the context, or to the root when context is '')"
        if posixpath.normpath(path or ".") == "." or path.endswith("/"):
            return "dockerfile must name a file"
    return None


def build_paths(dockerfile: str, context: str) -> tuple[str, str]:
    """Repository-relative (dockerfile, context), normalised, "." for the root.

    Docker Hub semantics: `dockerfile` is relative to `context`; context "/" (or "sub", "/sub")
    is taken from the root; an empty context means the Dockerfile's own folder, and then
    `dockerfile` is relative to the repository root.
    """
    if context == "":
        path = posixpath.normpath(dockerfile)
        return path, posixpath.dirname(path) or "."
    ctx = posixpath.normpath(context.strip("/") or ".")
    return posixpath.normpath(posixpath.join(ctx, dockerfile)), ctx
