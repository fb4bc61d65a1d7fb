"""When to try a notification again, and when to give up (no I/O).

Retried: 5xx answers, timeouts and dropped connections, with exponential backoff and jitter;
429 honours Retry-After (seconds or an HTTP date). Never retried: any other answer (2xx is
sent; 3xx and 4xx are final). After MAX_ATTEMPTS the notification ends failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

MAX_ATTEMPTS = 6
BACKOFF_FACTOR = 3.0
MAX_DELAY = 3600.0
"""No wait is longer than an hour, whatever Retry-After asks."""


class Verdict(StrEnum):
    """What to do after one attempt."""

    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Decision:
    """The verdict, the seconds to wait before the next attempt (RETRY only), and why."""

    verdict: Verdict
    delay: float = 0.0
    reason: str = ""


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent
    or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def backoff(attempt: int, *, base: float, jitter: Callable[[], float]) -> float:
    """The wait after failed attempt number `attempt` (1-based): base·3^(n−1), times a jitter
    factor in [0.5, 1.5) drawn from `jitter()` in [0, 1)."""
    delay = base * BACKOFF_FACTOR ** (attempt - 1)
    return min(MAX_DELAY, delay * (0.5 + jitter()))


def decide(*, status: int | None, error: str | None, retry_after: str | None, attempts: int,
           now: datetime, base: float, jitter: Callable[[], float],
           max_attempts: int = MAX_ATTEMPTS) -> Decision:
    """The verdict after attempt number `attempts` answered `status` (None: `error`, a timeout
    or a dropped connection)."""
    if status is not None and 200 <= status < 300:
        return Decision(Verdict.SENT)
    if status is not None and status != 429 and not 500 <= status < 600:
        return Decision(Verdict.FAILED, reason=f"HTTP {status} is not retried")
    what = f"HTTP {status}" if status is not None else (error or "no answer")
    if attempts >= max_attempts:
        return Decision(Verdict.FAILED, reason=f"gave up after {attempts} attempts ({what})")
    delay = backoff(attempts, base=base, jitter=jitter)
    if status == 429:
        asked = parse_retry_after(retry_after, now=now)
        if asked is not None:
            delay = min(MAX_DELAY, asked)
    return Decision(Verdict.RETRY, delay=delay, reason=f"{what}; retrying in {delay:.0f} s")
