"""Removing the logs of builds that ended long ago (database I/O), for `autobuild gc`.

The build itself stays (its status, tags, digest, timings: the history the ordering rules and
the pages rely on); its log chunks are replaced by one chunk saying why the log is gone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Engine, and_, delete, exists, insert, not_, select, update

from core.status import TERMINAL
from records.schema import build_logs, builds

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
