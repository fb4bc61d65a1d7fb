"""When a rule is rebuilt without a push: its `rebuild:` policy, and durations (no I/O).

A repository's `rebuild:` applies to each of its rules; a rule's own `rebuild:` keys replace
the repository's one by one. `on_base_change` (default true) rebuilds a rule when a base image
of its latest successful build changes (told by the registry's notifications, or found by
polling every `check_every`); `schedule` rebuilds it on a cron schedule in `timezone` (UTC).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from core.schedule import UTC_NAME

_DURATION = re.compile(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?", re.ASCII)
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
MIN_CHECK_EVERY = 1
MAX_CHECK_EVERY = 30 * 86400


@dataclass(frozen=True)
class RebuildPolicy:
    """A `rebuild:` mapping as written; None means "not set here"."""

    on_base_change: bool | None = None
    check_every: int | None = None  # seconds between two registry checks of each base
    schedule: str | None = None  # five-field cron expression
    timezone: str | None = None

    def over(self, base: RebuildPolicy | None) -> RebuildPolicy:
        """This policy's keys, falling back to `base`'s for the ones it does not set."""
        if base is None:
            return self
        return RebuildPolicy(**{f.name: getattr(base, f.name) if getattr(self, f.name) is None
                                else getattr(self, f.name) for f in fields(self)})

    @property
    def rebuilds_on_base_change(self) -> bool:
        """Whether a changed base image rebuilds the rule (the default)."""
        return self.on_base_change is not False

    @property
    def poll_interval(self) -> int | None:
        """Seconds between registry checks of the rule's bases; None when it is not polled."""
        return self.check_every if self.rebuilds_on_base_change else None

    @property
    def zone(self) -> str:
        """The schedule's time zone name."""
        return self.timezone or UTC_NAME

    def to_dict(self) -> dict[str, object]:
        """The keys that are set, as the rules file spells them."""
        data: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)
                                   if getattr(self, f.name) is not None}
        if self.check_every is not None:
            data["check_every"] = format_duration(self.check_every)
        return data


def parse_duration(text: str) -> int | None:
    """Seconds in `6h`, `30m`, `1h30m`, `90s`, `1d` or a plain number of seconds; None when
    `text` is none of these."""
    text = text.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        return None
    return sum(int(value) * seconds for value, (_, seconds) in zip(match.groups(), _UNITS,
                                                                   strict=True) if value)


def format_duration(seconds: int) -> str:
    """`1h30m` for 5400: the largest units, as parse_duration reads them."""
    parts = []
    for unit, size in _UNITS:
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def duration_problem(seconds: int) -> str | None:
    """Why `seconds` cannot be a check interval, or None."""
    if not MIN_CHECK_EVERY <= seconds <= MAX_CHECK_EVERY:
        return (f"must be between {format_duration(MIN_CHECK_EVERY)} and "
                f"{format_duration(MAX_CHECK_EVERY)}")
    return None
