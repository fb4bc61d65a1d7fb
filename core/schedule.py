"""Cron schedules: validating an expression and finding its runs, in a time zone (no I/O).

Expressions are the five fields of Debian's cron (minute hour day-of-month month day-of-week),
read by CronSim, which follows Debian's cron also across daylight-saving changes; the zone is
an IANA name read with zoneinfo (UTC when none is given). Every time in and out is aware.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

UTC_NAME = "UTC"
MAX_EXPRESSION_LENGTH = 200


def zone_problem(name: str) -> str | None:
    """Why `name` is not a time zone zoneinfo knows, or None."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin or UTC)"
    return None


def schedule_problem(expression: str, zone: str = UTC_NAME) -> str | None:
    """Why `expression` is not a cron schedule that ever runs, or None."""
    if len(expression) > MAX_EXPRESSION_LENGTH:
        return f"a cron expression has at most {MAX_EXPRESSION_LENGTH} characters"
    if len(expression.split()) != 5:
        return ("a cron expression has five fields: minute hour day-of-month month "
                "day-of-week, e.g. \"0 4 * * 1\" (Mondays at 04:00)")
    try:
        next(CronSim(expression, datetime.now(ZoneInfo(zone))))
    except CronSimError as exc:
        return f"invalid cron expression {expression!r}: {exc}"
    except StopIteration:
        return f"cron expression {expression!r} never runs"
    return None


def next_run(expression: str, zone: str, after: datetime) -> datetime | None:
    """The first run strictly after `after` (None when there is none within 50 years)."""
    try:
        return next(CronSim(expression, after.astimezone(ZoneInfo(zone))))
    except StopIteration:
        return None


def last_due(expression: str, zone: str, now: datetime) -> datetime | None:
    """The latest run at or before `now` (None when there is none within 50 years)."""
    start = now.replace(microsecond=0) + timedelta(seconds=1)  # CronSim looks strictly before
    try:
        return next(CronSim(expression, start.astimezone(ZoneInfo(zone)), reverse=True))
    except StopIteration:
        return None
