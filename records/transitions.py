"""The one place a build's status is written: the transition table is checked and phase times
are stamped in the same conditional UPDATE (database I/O).

Every status change (a worker's phases, a cancel, a timeout, a superseded or lost build) goes
through `transition`, so two processes racing to move one build cannot both win, and a build
never moves along an edge that core/status.py does not allow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, update

from core.status import ALLOWED_TRANSITIONS, BuildStatus
from records.schema import builds

PHASE_COLUMNS: dict[BuildStatus, tuple[str, ...]] = {
    BuildStatus.CLONING: ("started_at", "heartbeat_at"),
    BuildStatus.BUILDING: ("building_at",),
    BuildStatus.PUSHING: ("pushing_at",),
}
"""The timestamps a status stamps when a build enters it (terminal ones stamp finished_at)."""


def allowed_from(new: BuildStatus) -> list[str]:
    """The statuses a build may be in to move to `new`."""
    return sorted(old.value for old, targets in ALLOWED_TRANSITIONS.items() if new in targets)


def transition(
    conn: Connection,
    new: BuildStatus,
    *where: ColumnElement[bool],
    now: datetime,
    error: str | None = None,
    digest: str | None = None,
    superseded_by: str | None = None,
) -> int:
    """Move every build selected by `where` that may go to `new`; returns how many moved."""
    values: dict[str, Any] = {"status": new.value}
    values.update(dict.fromkeys(PHASE_COLUMNS.get(new, ()), now))
    if new.is_terminal():
        values["finished_at"] = now
    for column, value in (("error", error), ("digest", digest),
                          ("superseded_by", superseded_by)):
        if value is not None:
            values[column] = value
    statement = (update(builds).where(builds.c.status.in_(allowed_from(new)), *where)
                 .values(**values))
    return int(conn.execute(statement).rowcount)
