"""The one place a build's status is written: the transition table is checked, phase times
are stamped and the event is logged in the same transaction (database I/O).

Every status change (a worker's phases, a cancel, a timeout, a superseded or lost build) goes
through `transition`, so two processes racing to move one build cannot both win, and a build
never moves along an edge that core/status.py does not allow. Each build that moves gets a
`build_events` row in the same transaction (and a new build its `queued` one, through
`record_events`): notifications are made from those events, so none is lost between the
status write and the notification.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, insert, update

from core.status import ALLOWED_TRANSITIONS, BuildStatus
from records.commit_hooks import note_moved
from records.db import database_now
from records.schema import build_events, builds

MAX_ERROR = 4000
"""A build's error is the one line a page shows; engines can print more."""

PHASE_COLUMNS: dict[BuildStatus, tuple[str, ...]] = {
    BuildStatus.CLONING: ("started_at", "heartbeat_at"),
    BuildStatus.BUILDING: ("building_at",),
    BuildStatus.PUSHING: ("pushing_at",),
}
"""The timestamps a status stamps when a build enters it (terminal ones stamp finished_at)."""


def allowed_from(new: BuildStatus) -> list[str]:
    """The statuses a build may be in to move to `new`."""
    return sorted(old.value for old, targets in ALLOWED_TRANSITIONS.items() if new in targets)


def record_events(conn: Connection, build_ids: Sequence[str], status: BuildStatus, *,
                  now: datetime, untold: Collection[str] = ()) -> None:
    """Log that these builds entered `status`, in the caller's transaction. The events of
    `untold` builds (whose plans make no notification of it) are recorded as expanded, and
    nobody is asked to expand them."""
    if not build_ids:
        return
    conn.execute(insert(build_events),
                 [{"build_id": build_id, "status": status.value, "at": now,
                   "expanded_at": now if build_id in untold else None}
                  for build_id in build_ids])
    note_moved(conn, [build_id for build_id in build_ids if build_id not in untold])


def transition(
    conn: Connection,
    new: BuildStatus,
    *where: ColumnElement[bool],
    now: datetime,
    error: str | None = None,
    digest: str | None = None,
    superseded_by: str | None = None,
) -> int:
    """Move every build selected by `where` that may go to `new`; returns how many moved.

    One UPDATE … RETURNING id both moves the builds and names exactly those that moved (no
    window between choosing and moving them), then their events are inserted.
    """
    values: dict[str, Any] = {"status": new.value}
    values.update(dict.fromkeys(PHASE_COLUMNS.get(new, ()), now))
    if "heartbeat_at" in values:
        values["heartbeat_at"] = database_now()  # compared across machines: one clock
    if new.is_terminal():
        values["finished_at"] = now
    if error is not None and len(error) > MAX_ERROR:
        error = error[: MAX_ERROR - 20] + " … (cut; too long)"
    for column, value in (("error", error), ("digest", digest),
                          ("superseded_by", superseded_by)):
        if value is not None:
            values[column] = value
    statement = (update(builds).where(builds.c.status.in_(allowed_from(new)), *where)
                 .values(**values).returning(builds.c.id))
    moved = [str(build_id) for build_id in conn.execute(statement).scalars()]
    record_events(conn, moved, new, now=now)
    return len(moved)
