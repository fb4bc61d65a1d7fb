"""How builds of one rule and ref take turns, and how lost ones are found (database I/O).

Every decision here is one conditional UPDATE, so web processes and workers on several machines
can race on the same rows and exactly one wins.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import aliased

from core.status import RUNNING, BuildStatus
from records.builds import BuildRecord, BuildStore, build_from_row
from records.db import database_ago, database_now
from records.schema import builds
from records.transitions import transition

RUNNING_VALUES = [s.value for s in RUNNING]
HEARTBEAT_STALE_AFTER = timedelta(seconds=30)
LOST_MESSAGE = "worker lost: the worker running this build stopped sending heartbeats"


class StartResult(StrEnum):
    """What happened when a worker tried to start a build."""

    STARTED = "started"
    WAIT = "wait"  # another build of the same rule and ref is running: keep commit order
    GONE = "gone"  # no longer queued (cancelled, superseded) or unknown


def start_build(store: BuildStore, build_id: str) -> StartResult:
    """queued → cloning, unless another build of the same rule and ref is running."""
    other = aliased(builds)
    sibling_running = exists().where(
        other.c.repository == builds.c.repository,
        other.c.provider == builds.c.provider,
        other.c.rule_index == builds.c.rule_index,
        other.c.ref == builds.c.ref,
        other.c.status.in_(RUNNING_VALUES),
        other.c.id != builds.c.id,
    )
    with store.engine.begin() as conn:
        turn = conn.execute(select(builds.c.repository, builds.c.provider, builds.c.rule_index,
                                   builds.c.ref).where(builds.c.id == build_id)).first()
        if turn is None:
            return StartResult.GONE
        if conn.dialect.name == "postgresql":
            # READ COMMITTED lets two racers both see no running sibling; taking the rule and
            # ref's lock first makes the second one see the first's start.
            conn.execute(select(func.pg_advisory_xact_lock(turn_lock_key(*turn))))
        if transition(conn, BuildStatus.CLONING, builds.c.id == build_id, ~sibling_running,
                      now=store.clock()):
            return StartResult.STARTED
        status = conn.execute(
            select(builds.c.status).where(builds.c.id == build_id)
        ).scalar_one_or_none()
    return StartResult.WAIT if status == BuildStatus.QUEUED.value else StartResult.GONE


def turn_lock_key(repository: str, provider: str, rule_index: int, ref: str) -> int:
    """A signed 64-bit key naming one rule and ref, for PostgreSQL's advisory locks."""
    digest = hashlib.sha256(json.dumps([repository, provider, rule_index, ref]).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def heartbeat(store: BuildStore, build_id: str) -> BuildStatus | None:
    """Record that the build's worker is alive; returns the build's current status."""
    with store.engine.begin() as conn:
        conn.execute(
            update(builds)
            .where(builds.c.id == build_id, builds.c.status.in_(RUNNING_VALUES))
            .values(heartbeat_at=database_now())
        )
        status = conn.execute(
            select(builds.c.status).where(builds.c.id == build_id)
        ).scalar_one_or_none()
    return BuildStatus(status) if status else None


def fail_lost_builds(store: BuildStore, *, stale_after: timedelta = HEARTBEAT_STALE_AFTER,
                     message: str = LOST_MESSAGE) -> list[str]:
    """Mark running builds whose worker stopped sending heartbeats as failed; returns their ids.

    Heartbeats are written and judged in the database's clock, so a worker whose own clock
    is off is not taken for lost (nor a lost one for alive)."""
    cutoff = database_ago(store.engine, stale_after.total_seconds())
    stale = and_(builds.c.status.in_(RUNNING_VALUES), builds.c.heartbeat_at < cutoff)
    with store.engine.connect() as conn:
        ids = [str(i) for i in conn.execute(select(builds.c.id).where(stale)).scalars()]
    lost = []
    for build_id in ids:
        with store.engine.begin() as conn:
            changed = transition(conn, BuildStatus.FAILED, builds.c.id == build_id, stale,
                                 now=store.clock(), error=message)
        if changed:
            store.append_log(build_id, f"\n{message}\n")
            lost.append(build_id)
    return lost


def queued_before(store: BuildStore, *, age: timedelta) -> list[BuildRecord]:
    """Builds still queued that were created more than `age` ago (their job may be lost)."""
    cutoff = store.clock() - age
    query = (
        select(builds)
        .where(builds.c.status == BuildStatus.QUEUED.value, builds.c.created_at < cutoff)
        .order_by(builds.c.created_at)
    )
    with store.engine.connect() as conn:
        return [build_from_row(r) for r in conn.execute(query).mappings().all()]


def queued_ids_before(store: BuildStore, *, age: timedelta) -> list[str]:
    """The ids of `queued_before`'s builds, oldest first, without reading their plans (the
    janitor asks every few seconds, also while thousands of builds wait)."""
    cutoff = store.clock() - age
    query = (select(builds.c.id)
             .where(builds.c.status == BuildStatus.QUEUED.value, builds.c.created_at < cutoff)
             .order_by(builds.c.created_at))
    with store.engine.connect() as conn:
        return [str(build_id) for build_id in conn.execute(query).scalars()]
