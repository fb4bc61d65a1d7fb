"""Removing what the database gathers over time (database I/O), for `autobuild gc`.

The logs of builds that ended long ago: the build itself stays (its status, tags, digest,
timings: the history the ordering rules and the pages rely on); its log chunks are replaced by
one chunk saying why the log is gone. And the old rows of the logs of what came in and went
out: webhook deliveries, trigger calls, rebuild events with their decisions, and notifications
that are done (sent, failed or skipped).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Engine,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    not_,
    select,
    true,
    update,
)

from core.status import TERMINAL
from records.outbox import NotificationState
from records.schema import (
    build_logs,
    builds,
    deliveries,
    notifications,
    rebuild_decisions,
    rebuild_events,
    trigger_log,
)

PRUNED_MARKER = ("...<log removed by autobuild gc: the build ended more than "
                 "AUTOBUILD_RETENTION_DAYS days ago>\n")
BATCH = 200


def _has_a_log() -> ColumnElement[bool]:
    """Builds with log chunks other than the marker."""
    return exists().where(
        build_logs.c.build_id == builds.c.id,
        not_(and_(build_logs.c.seq == 1, build_logs.c.text == PRUNED_MARKER)))


def logs_to_prune(engine: Engine, *, ended_before: datetime) -> list[tuple[str, int]]:
    """(build id, log size) of builds that ended before `ended_before` and still have a log,
    oldest first."""
    query = (select(builds.c.id, builds.c.log_size)
             .where(builds.c.status.in_([s.value for s in TERMINAL]),
                    builds.c.finished_at < ended_before, _has_a_log())
             .order_by(builds.c.finished_at))
    with engine.connect() as conn:
        return [(str(i), int(size)) for i, size in conn.execute(query).all()]


def prune_logs(engine: Engine, build_ids: list[str]) -> int:
    """Replace the logs of `build_ids` with the marker, in batches; how many were pruned."""
    done = 0
    for start in range(0, len(build_ids), BATCH):
        batch = build_ids[start:start + BATCH]
        with engine.begin() as conn:
            conn.execute(delete(build_logs).where(build_logs.c.build_id.in_(batch)))
            conn.execute(insert(build_logs), [
                {"build_id": build_id, "seq": 1, "text": PRUNED_MARKER} for build_id in batch])
            conn.execute(update(builds).where(builds.c.id.in_(batch))
                         .values(log_size=len(PRUNED_MARKER)))
        done += len(batch)
    return done


DONE_NOTIFICATIONS = [NotificationState.SENT.value, NotificationState.FAILED.value,
                      NotificationState.SKIPPED.value]
HISTORY: dict[str, tuple[Table, ColumnElement[bool], str]] = {  # kind: table, which rows, time
    "delivery": (deliveries, true(), "received_at"),
    "trigger call": (trigger_log, true(), "received_at"),
    "rebuild event": (rebuild_events, true(), "received_at"),
    "notification": (notifications, notifications.c.state.in_(DONE_NOTIFICATIONS), "created_at"),
}


def _old(kind: str, before: datetime) -> tuple[Table, ColumnElement[bool]]:
    table, which, column = HISTORY[kind]
    return table, and_(which, table.c[column] < before)


def history_to_prune(engine: Engine, *, before: datetime) -> list[tuple[str, int]]:
    """(kind, how many rows) of the history older than `before`, kinds with none left out."""
    found = []
    with engine.connect() as conn:
        for kind in HISTORY:
            table, old = _old(kind, before)
            count = conn.execute(select(func.count()).select_from(table).where(old)).scalar_one()
            if count:
                found.append((kind, int(count)))
    return found


def prune_history(engine: Engine, kind: str, *, before: datetime) -> int:
    """Delete the `kind` rows older than `before` in one transaction; how many went."""
    table, old = _old(kind, before)
    with engine.begin() as conn:
        if table is rebuild_events:
            conn.execute(delete(rebuild_decisions).where(rebuild_decisions.c.event_id.in_(
                select(rebuild_events.c.id).where(old))))
        return int(conn.execute(delete(table).where(old)).rowcount or 0)
