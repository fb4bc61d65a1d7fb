"""Which bases to poll, how often, and how long to back off (no I/O).

Polling respects registries' rate limits: each distinct base is checked once per interval,
however many rules use it (the shortest `check_every` among them); a registry that fails or
answers 429 is asked again only after a backoff that doubles with each failure, and never
sooner than its Retry-After says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_BACKOFF = 86400
"""No base waits more than a day for its next check after failures."""


@dataclass(frozen=True)
class PollTarget:
    """One base to check: its canonical reference, interval, and the repositories using it."""

    reference: str
    interval: int
    repositories: tuple[tuple[str, str], ...]  # (name, provider), for their pull_auth


def poll_targets(uses: Iterable[tuple[str, str, int, str]]) -> dict[str, PollTarget]:
    """One target per distinct base, from (repository, provider, check_every, canonical base)
    for each base of each polled rule's latest image."""
    intervals: dict[str, int] = {}
    users: dict[str, list[tuple[str, str]]] = {}
    for repository, provider, interval, reference in uses:
        intervals[reference] = min(interval, intervals.get(reference, interval))
        named = users.setdefault(reference, [])
        if (repository, provider) not in named:
            named.append((repository, provider))
    return {reference: PollTarget(reference, intervals[reference], tuple(users[reference]))
            for reference in sorted(intervals)}


def backoff_after(interval: int, failures: int, retry_after: float | None) -> int:
    """Seconds until the next check after `failures` failed ones in a row."""
    doubled = interval * 2 ** max(0, min(failures - 1, 16))
    return int(min(MAX_BACKOFF, max(doubled, retry_after or 0)))
