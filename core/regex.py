"""Regular expressions from the rules file, in Google's RE2: matching takes linear time.

A rule's `/regex/` source runs against every pushed branch or tag name, in the web process. With
Python's backtracking `re`, one pattern such as `/^(\\d+\\.?)+$/` could hold a web thread for
seconds per push; RE2 (which Cloud Build uses) never backtracks. Its syntax is Python's and
Perl's without backreferences and lookarounds, which it refuses when the rules are loaded. \\d,
\\w and \\s are ASCII only; (?i) and the other inline flags work.
"""

from __future__ import annotations

import functools
from typing import Any

import re2  # google-re2: a pure computation, like re

RegexError = re2.error


def _options(*, dot_matches_newline: bool) -> Any:
    options = re2.Options()
    options.log_errors = False  # the caller reports the problem; RE2 would print to stderr
    options.dot_nl = dot_matches_newline
    return options


@functools.lru_cache(maxsize=1024)
def compile_regex(pattern: str, *, dot_matches_newline: bool = False) -> Any:
    """The compiled RE2 pattern (cached); RegexError when RE2 cannot take it."""
    return re2.compile(pattern, _options(dot_matches_newline=dot_matches_newline))


def regex_problem(pattern: str) -> str | None:
    """Why `pattern` is not an RE2 regular expression, in words, or None."""
    try:
        compile_regex(pattern)
    except RegexError as exc:
        detail = exc.args[0] if exc.args else exc
        text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        hint = ""
        if "invalid escape sequence: \\" in text and any(c.isdigit() for c in text[-2:]):
            hint = " (RE2 has no backreferences)"
        elif "invalid perl operator: (?" in text:
            hint = " (RE2 has no lookahead or lookbehind)"
        return f"{text}{hint}"
    return None
