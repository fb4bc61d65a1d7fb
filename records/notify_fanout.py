"""Turning build events into notification rows for the targets each build's plan names
(database I/O).

Each event is expanded once: a conditional UPDATE of its `expanded_at` and the INSERT of its
notifications share one transaction, so two notifiers racing on one event record it once (the
unique (event_id, target_key) constraint says so too). An event that names no target is only
marked.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from core.notify.facts import BuildFacts
from core.notify.fanout import PlannedNotification, notifications_for
from core.status import BuildStatus
from records.builds import BuildRecord, build_from_row
from records.db import new_build_id
from records.schema import build_events, builds, notifications

EXPAND_BATCH = 100
PENDING = "pending"


def build_url(public_url: str, build_id: str) -> str | None:
    """The build's page on AUTOBUILD_PUBLIC_URL, or None without one."""
    return f"{public_url}/builds/{build_id}" if public_url else None


def facts_of(build: BuildRecord, status: BuildStatus, at: datetime, *, public_url: str,
             newer_commit: str | None = None) -> BuildFacts:
    """What a notification of `build` entering `status` at `at` tells."""
    return BuildFacts(
        build_id=build.id, repository=build.repository, provider=build.provider,
        ref=build.ref, commit=build.commit, status=status, tags=build.tags, at=at,
        created_at=build.created_at, image=build.plan.image, digest=build.digest,
        error=build.error, superseded_by_commit=newer_commit,
        build_url=build_url(public_url, build.id),
    )


def expand_events(engine: Engine, *, public_url: str, now: datetime,
                  build_id: str | None = None, limit: int = EXPAND_BATCH) -> int:
    """Record the notifications of events not yet expanded (of one build, or any), oldest
    first; returns how many events this call expanded."""
    query = select(build_events).where(build_events.c.expanded_at.is_(None))
    if build_id is not None:
        query = query.where(build_events.c.build_id == build_id)
    with engine.connect() as conn:
        events = conn.execute(query.order_by(build_events.c.id).limit(limit)).mappings().all()
    expanded = 0
    for event in events:
        with engine.begin() as conn:
            if _expand_one(conn, event, public_url=public_url, now=now):
                expanded += 1
    return expanded


def _expand_one(conn: Connection, event: Any, *, public_url: str, now: datetime) -> bool:
    """Expand one event in the caller's transaction; False when another process did."""
    claimed = conn.execute(update(build_events).where(
        build_events.c.id == event["id"], build_events.c.expanded_at.is_(None),
    ).values(expanded_at=now)).rowcount
    if not claimed:
        return False
    row = conn.execute(select(builds).where(builds.c.id == event["build_id"])).mappings().one()
    build = build_from_row(row)
    status = BuildStatus(event["status"])
    newer = None
    if status is BuildStatus.SUPERSEDED and build.superseded_by:
        newer = conn.execute(select(builds.c.commit_sha).where(
            builds.c.id == build.superseded_by)).scalar_one_or_none()
    facts = facts_of(build, status, event["at"], public_url=public_url, newer_commit=newer)
    planned = notifications_for(build.plan, facts, new_id=lambda: new_build_id(now))
    if planned:
        conn.execute(insert(notifications),
                     [_row(item, event_id=event["id"], build_id=build.id, now=now)
                      for item in planned])
    return True


def _row(item: PlannedNotification, *, event_id: int, build_id: str,
         now: datetime) -> dict[str, Any]:
    """The `notifications` row of one planned notification, pending and due now."""
    return {
        "id": item.id, "event_id": event_id, "build_id": build_id, "kind": item.kind,
        "target": item.request.describe()[:1024], "target_key": item.target_key[:300],
        "event": item.event, "request": json.dumps(item.request.to_dict()),
        "body": item.request.body.decode("utf-8"), "state": PENDING, "attempts": 0,
        "next_attempt_at": now, "created_at": now, "updated_at": now,
    }
