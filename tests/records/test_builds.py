"""The system of record: statuses only move forward, races have one winner, nothing is lost."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from core.decision import DeliveryOutcome
from core.status import BuildStatus
from records.builds import BuildStore
from records.coordination import (
    StartResult,
    fail_lost_builds,
    heartbeat,
    queued_before,
    start_build,
)
from records.db import utcnow
from records.deliveries import DeliveryLog
from records.logs import TRUNCATION_MARKER
from records.schema import builds
from tests.factories import make_plan


def test_a_build_walks_the_happy_path_with_timestamps(store: BuildStore) -> None:
    (build,) = store.create_builds([make_plan()])
    assert build.status is BuildStatus.QUEUED and build.started_at is None
    for status in (BuildStatus.CLONING, BuildStatus.BUILDING, BuildStatus.PUSHING):
        assert store.set_status(build.id, status)
    assert store.set_status(build.id, BuildStatus.SUCCESS, digest="sha256:" + "f" * 64)
    done = store.get_build(build.id)
    assert done is not None and done.status is BuildStatus.SUCCESS
    assert done.digest == "sha256:" + "f" * 64
    phases = done.phase_times()
    assert None not in phases.values()
    assert phases["cloning"] <= phases["building"] <= phases["pushing"] <= phases["finished"]
    assert done.to_dict()["created_at"].endswith("Z")


def test_a_multi_platform_build_records_each_platforms_digest(store: BuildStore) -> None:
    plan = make_plan(platforms=("linux/amd64", "linux/arm64"))
    (build,) = store.create_builds([plan])
    assert store.get_build(build.id).to_dict()["platform_digests"] == []  # type: ignore[union-attr]
    digests = (("linux/amd64", "sha256:" + "a" * 64), ("linux/arm64", "sha256:" + "b" * 64))
    store.record_platform_digests(build.id, digests)
    found = store.get_build(build.id)
    assert found is not None and found.platform_digests == digests
    api = found.to_dict()
    assert (api["builder"], api["platforms"]) == ("buildkit", ["linux/amd64", "linux/arm64"])
    assert api["platform_digests"] == [{"platform": p, "digest": d} for p, d in digests]


@pytest.mark.parametrize(("path", "refused"), [
    pytest.param([BuildStatus.SUCCESS], BuildStatus.FAILED, id="terminal-is-final"),
    pytest.param([], BuildStatus.SUCCESS, id="queued-cannot-succeed"),
    pytest.param([BuildStatus.CANCELLED], BuildStatus.CLONING, id="cancelled-never-starts"),
    pytest.param([BuildStatus.CLONING, BuildStatus.BUILDING], BuildStatus.CLONING,
                 id="no-going-back"),
])
def test_transitions_not_allowed_change_nothing(
    store: BuildStore, path: list[BuildStatus], refused: BuildStatus
) -> None:
    (build,) = store.create_builds([make_plan()])
    if path == [BuildStatus.SUCCESS]:
        path = [BuildStatus.CLONING, BuildStatus.BUILDING, BuildStatus.PUSHING, *path]
    for status in path:
        assert store.set_status(build.id, status)
    before = store.get_build(build.id)
    assert not store.set_status(build.id, refused, error="should not stick")
    after = store.get_build(build.id)
    assert after == before


def test_arrival_order_supersedes_nothing(store: BuildStore) -> None:
    """Which queued build of a rule and ref is newest is git's call, made by the worker."""
    made = [store.create_builds([make_plan(commit=str(n) * 40)])[0] for n in (3, 1, 2)]
    assert [store.get_build(b.id).status for b in made] == [  # type: ignore[union-attr]
        BuildStatus.QUEUED] * 3


def test_running_build_is_not_superseded(store: BuildStore) -> None:
    (running,) = store.create_builds([make_plan(commit="1" * 40)])
    assert start_build(store, running.id) is StartResult.STARTED
    store.create_builds([make_plan(commit="2" * 40)])
    assert store.get_build(running.id).status is BuildStatus.CLONING  # type: ignore[union-attr]


def test_one_build_per_rule_and_ref_runs_at_a_time(store: BuildStore) -> None:
    (first,) = store.create_builds([make_plan(commit="1" * 40)])
    assert start_build(store, first.id) is StartResult.STARTED
    (second,) = store.create_builds([make_plan(commit="2" * 40)])
    (elsewhere,) = store.create_builds([make_plan(commit="2" * 40, rule_index=1)])
    assert start_build(store, second.id) is StartResult.WAIT
    assert start_build(store, elsewhere.id) is StartResult.STARTED
    assert store.set_status(first.id, BuildStatus.FAILED, error="boom")
    assert start_build(store, second.id) is StartResult.STARTED
    assert start_build(store, second.id) is StartResult.GONE


def test_log_is_ordered_and_capped_with_a_marker(store: BuildStore) -> None:
    (build,) = store.create_builds([make_plan()])
    store.append_log(build.id, "first\n")
    store.append_log(build.id, "second\n")
    assert store.get_log(build.id) == "first\nsecond\n"
    assert [seq for seq, _ in store.log_chunks(build.id, after_seq=1)] == [2]
    store.append_log(build.id, "x" * 5000)
    store.append_log(build.id, "never shown")
    log = store.get_log(build.id)
    assert log.endswith(TRUNCATION_MARKER) and "never shown" not in log
    assert len(log) == 1000 + len(TRUNCATION_MARKER)


def test_builds_with_stale_heartbeats_fail_as_lost(store: BuildStore) -> None:
    (fresh,) = store.create_builds([make_plan(commit="1" * 40)])
    (stale,) = store.create_builds([make_plan(commit="2" * 40, rule_index=1)])
    for build in (fresh, stale):
        assert start_build(store, build.id) is StartResult.STARTED
    with store.engine.begin() as conn:
        conn.execute(builds.update().where(builds.c.id == stale.id).values(
            heartbeat_at=utcnow() - timedelta(minutes=5)))
    assert heartbeat(store, fresh.id) is BuildStatus.CLONING

    assert fail_lost_builds(store) == [stale.id]
    assert fail_lost_builds(store) == []
    lost = store.get_build(stale.id)
    assert lost is not None and lost.status is BuildStatus.FAILED
    assert lost.error is not None and lost.error.startswith("worker lost")
    assert "worker lost" in store.get_log(stale.id)
    assert store.get_build(fresh.id).status is BuildStatus.CLONING  # type: ignore[union-attr]


def test_old_queued_builds_are_found_for_requeueing(store: BuildStore) -> None:
    (build,) = store.create_builds([make_plan()])
    assert queued_before(store, age=timedelta(minutes=1)) == []
    with store.engine.begin() as conn:
        conn.execute(builds.update().where(builds.c.id == build.id).values(
            created_at=utcnow() - timedelta(minutes=5)))
    assert [b.id for b in queued_before(store, age=timedelta(minutes=1))] == [build.id]


def test_accepted_delivery_is_recorded_once_with_its_builds(
    deliveries: DeliveryLog
) -> None:
    first = deliveries.record_delivery(
        forge="github", delivery_id="guid-1", event="push", repository="acme/webapp",
        refs=["refs/heads/main"], outcome=DeliveryOutcome.QUEUED, reason=None, status_code=202,
        plans=[make_plan()], accepted=True)
    assert first is not None
    record, created = first
    assert record.build_ids == tuple(b.id for b in created) and len(created) == 1
    again = deliveries.record_delivery(
        forge="github", delivery_id="guid-1", event="push", repository="acme/webapp",
        refs=["refs/heads/main"], outcome=DeliveryOutcome.QUEUED, reason=None, status_code=202,
        plans=[make_plan(commit="b" * 40)], accepted=True)
    assert again is None
    assert len(deliveries.builds.list_builds()) == 1
    found = deliveries.find_delivery("github", "acme/webapp", "guid-1")
    assert found is not None and found.id == record.id


def test_rejected_delivery_does_not_block_its_redelivery(
    deliveries: DeliveryLog
) -> None:
    rejected = deliveries.record_delivery(
        forge="github", delivery_id="guid-2", event="push", repository="acme/webapp",
        refs=[], outcome=DeliveryOutcome.REJECTED, reason="bad signature", status_code=401,
        accepted=False)
    assert rejected is not None
    assert deliveries.find_delivery("github", "acme/webapp", "guid-2") is None
    accepted = deliveries.record_delivery(
        forge="github", delivery_id="guid-2", event="push", repository="acme/webapp",
        refs=["refs/heads/main"], outcome=DeliveryOutcome.QUEUED, reason=None, status_code=202,
        plans=[make_plan()], accepted=True)
    assert accepted is not None
    listed = deliveries.recent_deliveries()
    assert [d.outcome for d in listed] == ["queued", "rejected"]
    assert [d.outcome for d in deliveries.recent_deliveries(not_built=True)] == ["rejected"]


def test_concurrent_log_writers_lose_no_chunk(store: BuildStore) -> None:
    """The worker and a cancel from the web append to one log at once: every chunk lands."""
    store = BuildStore(store.engine, log_cap=1_000_000)
    (build,) = store.create_builds([make_plan()])
    writers, per_writer = 6, 50

    def write(writer: int) -> None:
        for line in range(per_writer):
            store.append_log(build.id, f"w{writer}-{line}\n")

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    chunks = store.log_chunks(build.id)
    assert [seq for seq, _ in chunks] == list(range(1, writers * per_writer + 1))
    assert sorted(text for _, text in chunks) == sorted(
        f"w{w}-{n}\n" for w in range(writers) for n in range(per_writer))
    for writer in range(writers):  # each writer's own chunks stay in its order
        mine = [text for _, text in chunks if text.startswith(f"w{writer}-")]
        assert mine == [f"w{writer}-{n}\n" for n in range(per_writer)]


def test_heartbeats_use_the_databases_clock_not_the_workers(store: BuildStore) -> None:
    """A worker whose clock is an hour behind, judged by a sweeper whose clock is right."""
    skewed = BuildStore(store.engine, log_cap=store.log_cap,
                        clock=lambda: utcnow() - timedelta(hours=1))
    (build,) = skewed.create_builds([make_plan()])
    assert start_build(skewed, build.id) is StartResult.STARTED
    heartbeat(skewed, build.id)

    assert fail_lost_builds(store) == []
    with store.engine.begin() as conn:
        conn.execute(builds.update().where(builds.c.id == build.id).values(
            heartbeat_at=utcnow() - timedelta(minutes=5)))
    assert fail_lost_builds(skewed) == [build.id], "a truly stale heartbeat is stale anywhere"



def test_racing_workers_start_one_build_of_a_rule_and_ref(store: BuildStore) -> None:
    """Workers on several machines pick up builds of one rule and ref at the same moment."""
    for round_number in range(15):
        waiting = store.create_builds([make_plan(ref=f"refs/heads/race-{round_number}",
                                                 commit=f"{n:040x}") for n in range(6)])
        barrier = threading.Barrier(len(waiting))
        results: list[StartResult] = []

        def start(build_id: str, barrier: threading.Barrier = barrier,
                  results: list[StartResult] = results) -> None:
            barrier.wait()
            results.append(start_build(store, build_id))

        threads = [threading.Thread(target=start, args=(b.id,)) for b in waiting]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results.count(StartResult.STARTED) == 1, (round_number, results)
