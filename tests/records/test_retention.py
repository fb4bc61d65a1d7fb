"""`autobuild gc`'s history pruning on each backend: rows older than the retention go, newer
ones and notifications still to be sent stay, and a rebuild event goes with its decisions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select

from core.status import BuildStatus
from records.builds import BuildStore
from records.db import utcnow
from records.retention import history_to_prune, prune_history
from records.schema import (
    build_events,
    deliveries,
    notifications,
    rebuild_decisions,
    rebuild_events,
    trigger_log,
)
from tests.factories import stored_build


def add(store: BuildStore, table: Table, **values: Any) -> Any:
    """Insert one row; its primary key."""
    with store.engine.begin() as conn:
        return conn.execute(insert(table).values(**values)).inserted_primary_key[0]


def count(store: BuildStore, table: Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def seed(store: BuildStore, at: datetime, label: str) -> None:
    """One row of each history at `at`, and a notification still pending."""
    add(store, deliveries, forge="github", delivery_id=f"d-{label}", event="push", refs="[]",
        outcome="ignored", build_ids="[]", status_code=200, received_at=at)
    add(store, trigger_log, url_shape="classic", client="127.0.0.1", body="{}",
        outcome="queued", build_ids="[]", status_code=202, received_at=at)
    event = add(store, rebuild_events, kind="poll", origin=f"o-{label}", outcome="queued",
                build_ids="[]", received_at=at)
    add(store, rebuild_decisions, event_id=event, repository="acme/app", provider="github",
        rule_index=0, ref="refs/heads/main", verdict="queued", reason="r", decided_at=at)
    build = stored_build(store, BuildStatus.SUCCESS)
    with store.engine.connect() as conn:
        event_id = conn.execute(select(build_events.c.id).where(
            build_events.c.build_id == build.id)).scalars().first()
    for state in ("sent", "pending"):
        add(store, notifications, id=f"n-{label}-{state}", event_id=event_id, build_id=build.id,
            kind="webhook", target="https://example.com/hook", target_key=f"{label}-{state}",
            event="success", request="{}", body="{}", state=state, attempts=1,
            next_attempt_at=at, created_at=at, updated_at=at)


def test_old_history_goes_and_the_rest_stays(store: BuildStore) -> None:
    now = utcnow()
    seed(store, now - timedelta(days=40), "old")
    seed(store, now - timedelta(days=5), "new")
    before = now - timedelta(days=30)

    assert history_to_prune(store.engine, before=before) == [
        ("delivery", 1), ("trigger call", 1), ("rebuild event", 1), ("notification", 1)]
    for kind in ("delivery", "trigger call", "rebuild event", "notification"):
        assert prune_history(store.engine, kind, before=before) == 1

    assert history_to_prune(store.engine, before=before) == []
    assert [count(store, t) for t in (deliveries, trigger_log, rebuild_events,
                                      rebuild_decisions)] == [1, 1, 1, 1]
    with store.engine.connect() as conn:
        left = sorted(conn.execute(select(notifications.c.id)).scalars())
    assert left == ["n-new-pending", "n-new-sent", "n-old-pending"]
