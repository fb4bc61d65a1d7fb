"""Whole numbers from query strings and forms, read safely: only ASCII digits, bounded.

`"²".isdigit()` is True and `int("²")` fails; thirty digits overflow a database integer. A
query argument that is not a plain small number takes its default instead of a 500.
"""

from __future__ import annotations

import re

from flask import request

_DIGITS = re.compile(r"[0-9]{1,12}", re.ASCII)
MAX_OFFSET = 10**9


def whole_number(raw: str | None) -> int | None:
    """The number `raw` spells in plain ASCII digits (at most 12), else None."""
    if raw is None:
        return None
    text = raw.strip()
    return int(text) if _DIGITS.fullmatch(text) else None


def query_int(name: str, default: int, *, low: int, high: int) -> int:
    """Query argument `name` as a whole number clamped to [low, high]; `default` when it is
    absent or not a plain number."""
    value = whole_number(request.args.get(name))
    if value is None:
        return default
    return min(max(value, low), high)
