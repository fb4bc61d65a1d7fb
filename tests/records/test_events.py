"""Build events: written in the transaction of every status change, handed to an after-commit
callback, and expanded into the notifications outbox once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from core.credentials import SecretRef
from core.notify.targets import StatusTarget, WebhookTarget
from core.status import BuildStatus
from records.builds import BuildStore
from records.commit_hooks import after_commit
from records.coordination import fail_lost_builds, start_build
from records.deliveries import DeliveryLog
from records.notify_fanout import expand_events
from records.outbox import NotificationState, Outbox
from records.schema import build_events, builds, notifications
from tests.factories import make_plan, path_to, stored_build

STATUS = StatusTarget(forge="github", api_url="http://127.0.0.1:9", token=SecretRef(env="T"),
                      context="autobuild/latest")
HOOK = WebhookTarget(url="http://127.0.0.1:9/hook", events=("success", "failed"))


def events(engine: Engine, build_id: str) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(build_events.c.status).where(
            build_events.c.build_id == build_id).order_by(build_events.c.id)).scalars())


@pytest.fixture
def moved(store: BuildStore) -> Iterator[list[list[str]]]:
    """What the store's after-commit callback was handed, call by call."""
    calls: list[list[str]] = []
    after_commit(store.engine, calls.append)
    yield calls


def test_every_transition_and_the_queued_insert_write_an_event(store: BuildStore) -> None:
    build = stored_build(store, BuildStatus.SUCCESS)

    assert events(store.engine, build.id) == ["queued", "cloning", "building", "pushing",
                                              "success"]


def test_a_refused_transition_writes_no_event(store: BuildStore) -> None:
    build = stored_build(store, BuildStatus.SUCCESS)

    assert not store.set_status(build.id, BuildStatus.FAILED, error="late")
    assert events(store.engine, build.id)[-1] == "success"


def test_superseding_writes_the_older_builds_event_in_the_same_transaction(
    store: BuildStore, moved: list[list[str]],
) -> None:
    (older,) = store.create_builds([make_plan(commit="a" * 40, status=STATUS)])
    (newer,) = store.create_builds([make_plan(commit="b" * 40, status=STATUS)])

    assert store.set_status(older.id, BuildStatus.SUPERSEDED, superseded_by=newer.id)

    assert events(store.engine, older.id) == ["queued", "superseded"]
    assert events(store.engine, newer.id) == ["queued"]
    assert moved == [[older.id], [newer.id], [older.id]]


def test_only_the_racer_that_moves_a_build_logs_its_event(store: BuildStore) -> None:
    build = stored_build(store)

    results = [start_build(store, build.id) for _ in range(3)]

    assert [r.value for r in results] == ["started", "gone", "gone"]
    assert events(store.engine, build.id) == ["queued", "cloning"]


def test_lost_builds_and_deliveries_log_their_events(store: BuildStore,
                                                     deliveries: DeliveryLog) -> None:
    from core.decision import DeliveryOutcome

    recorded = deliveries.record_delivery(
        forge="github", delivery_id="d-1", event="push", repository="acme/webapp",
        refs=["refs/heads/b"], outcome=DeliveryOutcome.QUEUED, reason=None, status_code=202,
        plans=[make_plan(ref="refs/heads/lost")], accepted=True)
    assert recorded is not None
    (build,) = recorded[1]
    store.set_status(build.id, BuildStatus.CLONING)
    with store.engine.begin() as conn:
        conn.execute(builds.update().where(builds.c.id == build.id).values(
            heartbeat_at=build.created_at - timedelta(hours=1)))

    assert fail_lost_builds(store) == [build.id]
    assert events(store.engine, build.id) == ["queued", "cloning", "failed"]


def test_a_rolled_back_transition_hands_nothing_over(store: BuildStore,
                                                     moved: list[list[str]]) -> None:
    from records.schema import builds
    from records.transitions import transition

    build = stored_build(store)
    moved.clear()
    with pytest.raises(RuntimeError), store.engine.begin() as conn:
        transition(conn, BuildStatus.CANCELLED, builds.c.id == build.id, now=store.clock())
        raise RuntimeError("the caller fails after moving the build")

    assert moved == []
    assert events(store.engine, build.id) == ["queued"]
    assert store.set_status(build.id, BuildStatus.CANCELLED)
    assert moved == [[build.id]]


def targeted_build(store: BuildStore, status: BuildStatus) -> str:
    """A build of a plan with STATUS and HOOK, moved to `status`; its id."""
    (build,) = store.create_builds([make_plan(status=STATUS, notify=(HOOK,))])
    for step in path_to(status):
        assert store.set_status(build.id, step)
    return build.id


def expand(store: BuildStore, build_id: str | None = None) -> int:
    return expand_events(store.engine, public_url="https://ci.example.com", now=store.clock(),
                         build_id=build_id)


def test_events_become_one_notification_per_target_once(store: BuildStore) -> None:
    build_id = targeted_build(store, BuildStatus.SUCCESS)

    assert expand(store, build_id) == 5
    assert expand(store, build_id) == 0  # expanded once, whoever asks again

    found = Outbox(store.engine).for_build(build_id)
    assert [(n.event, n.kind) for n in found] == [
        ("queued", "commit_status"), ("cloning", "commit_status"),
        ("success", "webhook"), ("success", "commit_status")]
    assert {n.state for n in found} == {NotificationState.PENDING}
    assert found[0].target == f"http://127.0.0.1:9/repos/acme/webapp/statuses/{'a' * 40}"
    assert found[2].target == "http://127.0.0.1:9/hook"
    assert b"https://ci.example.com/builds/" + build_id.encode() in found[3].request.body


def test_a_new_build_that_tells_nobody_asks_no_notifier_job(
    store: BuildStore, moved: list[list[str]],
) -> None:
    (silent,) = store.create_builds([make_plan(commit="a" * 40)])
    (hooked,) = store.create_builds([make_plan(commit="b" * 40, notify=(HOOK,))])
    (status,) = store.create_builds([make_plan(commit="c" * 40, status=STATUS)])

    with store.engine.connect() as conn:
        unexpanded = set(conn.execute(select(build_events.c.build_id).where(
            build_events.c.expanded_at.is_(None))).scalars())
    assert events(store.engine, silent.id) == ["queued"]
    assert unexpanded == {status.id}  # the hook asked for success and failed only
    assert moved == [[status.id]]
    assert hooked.id not in unexpanded


def test_builds_without_targets_only_mark_their_events(store: BuildStore) -> None:
    build = stored_build(store, BuildStatus.FAILED)

    assert expand(store) == 2  # cloning and failed; queued was recorded as told already
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(notifications)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(build_events).where(
            build_events.c.build_id == build.id, build_events.c.expanded_at.is_(None))
        ).scalar_one() == 0


def test_superseded_status_names_the_newer_commit(store: BuildStore) -> None:
    (older,) = store.create_builds([make_plan(commit="a" * 40, status=STATUS)])
    (newer,) = store.create_builds([make_plan(commit="b" * 40, status=STATUS)])
    assert store.set_status(older.id, BuildStatus.SUPERSEDED, superseded_by=newer.id)
    expand(store)

    (_, superseded) = Outbox(store.engine).for_build(older.id)

    assert superseded.event == "superseded"
    assert b'"description": "superseded by bbbbbbb"' in superseded.request.body
