"""Rebuild records on SQLite and PostgreSQL: migration 0007 from 0006 keeps every build, claims
queue a rebuild once, the scheduler's claims let one process act, bases read back."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, select

from core.plan import TRIGGER_BASE_IMAGE
from core.rebuilds import RebuildCause, RuleRef, Verdict
from core.status import BuildStatus
from records import migrate
from records.base_users import base_users, in_progress, latest_images, pushed_by
from records.builds import BuildStore
from records.periodic import base_checks_of, claim_check, claim_run, finish_check
from records.rebuild_log import Decision, RebuildLog
from records.schema import builds
from tests.factories import make_plan, stored_build
from tests.records.migration_support import BACKENDS, make_databases

RULE = RuleRef("acme/webapp", "github", 0, "refs/heads/master")
NOW = datetime(2027, 1, 4, 4, 0, tzinfo=UTC)
DIGEST = "sha256:" + "9" * 64


@pytest.mark.parametrize("backend", BACKENDS)
def test_0007_upgrades_a_0006_database_keeping_its_builds(backend: str, tmp_path: Path) -> None:
    dbs = make_databases(backend, tmp_path)
    try:
        engine = dbs.engine()
        with migrate.migration_lock(engine) as conn:
            command.upgrade(migrate.alembic_config(conn), "0006")
        store = BuildStore(engine)
        with engine.begin() as conn:  # a build as 0006 stored it: no bases, no cause
            plan = make_plan()
            conn.execute(builds.insert().values(
                id="old-build", repository=plan.repository, provider=plan.provider,
                rule_index=0, ref=plan.ref, commit_sha=plan.commit, status="success",
                trigger="push", tags=json.dumps(list(plan.tags)),
                plan=json.dumps(plan.to_dict()), created_at=NOW, log_size=0))

        result = migrate.upgrade(engine)

        assert (result.before, result.after) == ("0006", migrate.head_revision())
        migrate.check(engine)
        tables = set(inspect(engine).get_table_names())
        assert {"rebuild_events", "rebuild_decisions", "rebuild_claims", "base_checks",
                "rebuild_schedules"} <= tables
        old = store.get_build("old-build")
        assert old is not None and (old.bases, old.cause) == ((), None)
        assert old.to_dict()["bases"] == [] and old.to_dict()["reason"] is None
        store.record_bases("old-build", [("busybox", DIGEST)])
        again = store.get_build("old-build")
        assert again is not None and again.bases == (("busybox", DIGEST),)
    finally:
        dbs.close()


def cause(origin: str = "base:x@y") -> RebuildCause:
    return RebuildCause(kind=TRIGGER_BASE_IMAGE, origin=origin, chain=(RULE,), base="busybox",
                        new_digest=DIGEST)


def test_a_rebuild_and_its_claim_are_queued_once(store: BuildStore) -> None:
    log = RebuildLog(store.engine, store)
    plan = make_plan(trigger=TRIGGER_BASE_IMAGE, pull=True)

    first = log.create_rebuild(plan, claim="k" * 64, cause=cause())
    again = log.create_rebuild(plan, claim="k" * 64, cause=cause())

    assert first is not None and again is None
    assert first.cause == cause() and first.status is BuildStatus.QUEUED
    assert log.claimed_by("k" * 64) == first.id
    assert [b.id for b in store.list_builds()] == [first.id]  # the loser left no build
    assert in_progress(store, plan) == first


def test_concurrent_claims_of_one_rebuild_queue_it_once(store: BuildStore) -> None:
    log = RebuildLog(store.engine, store)
    plan = make_plan(trigger=TRIGGER_BASE_IMAGE)
    results: list[object] = []
    start = threading.Barrier(4)

    def claim() -> None:
        start.wait()
        results.append(log.create_rebuild(plan, claim="c" * 64, cause=cause()))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r is not None for r in results) == 1
    assert store.count_builds() == 1


def test_events_keep_their_decisions_and_a_redelivery_is_refused(store: BuildStore) -> None:
    log = RebuildLog(store.engine, store)
    event_id = log.open_event("notification", "base:x@y", reference="busybox", digest=DIGEST,
                              dedupe_key="registry:ev-1")
    assert event_id is not None
    assert log.open_event("notification", "base:x@y", dedupe_key="registry:ev-1") is None
    done = log.close_event(event_id, [Decision(RULE, Verdict.CYCLE, "cycle: a → b → a")],
                           reason="acme/webapp: cycle")
    assert (done.outcome, done.decisions[0].verdict) == ("ignored", Verdict.CYCLE)
    assert [e.id for e in log.recent_events(limit=5, repository="acme/webapp")] == [event_id]
    assert log.recent_events(limit=5, repository="acme/other") == []
    log.drop_event(event_id)
    assert log.open_event("notification", "base:x@y", dedupe_key="registry:ev-1") is not None


def test_the_latest_image_of_a_retag_has_the_bases_of_the_build_it_reused(
        store: BuildStore) -> None:
    built = stored_build(store, BuildStatus.SUCCESS, own_ref=False)
    store.record_bases(built.id, [("busybox", DIGEST)])
    retag = stored_build(store, BuildStatus.SUCCESS, own_ref=False)
    store.mark_reused(retag.id, built.id)

    latest = latest_images(store, [("acme/webapp", "github", 0)])

    assert latest[("acme/webapp", "github", 0)].id == retag.id
    assert latest[("acme/webapp", "github", 0)].bases == (("busybox", DIGEST),)
    (user,) = base_users(store, [("acme/webapp", "github", 0)], "docker.io/library/busybox")
    assert (user.build_id, user.digest, user.rule) == (retag.id, DIGEST, RULE)


def test_our_build_that_pushed_a_reference_is_found_while_it_pushes(store: BuildStore) -> None:
    reference = "127.0.0.1:5000/acme/webapp:latest"
    pushing = stored_build(store, BuildStatus.PUSHING)
    found = pushed_by(store, [("acme/webapp", "github")], reference, DIGEST)
    assert found is not None and found.id == pushing.id
    assert pushed_by(store, [("acme/other", "github")], reference, DIGEST) is None
    assert pushed_by(store, [("acme/webapp", "github")], reference + "x", DIGEST) is None


def test_one_scheduler_takes_each_check_and_each_due_run(store: BuildStore) -> None:
    engine = store.engine
    assert claim_check(engine, "busybox", now=NOW, interval=60)
    assert not claim_check(engine, "busybox", now=NOW + timedelta(seconds=59), interval=60)
    assert claim_check(engine, "busybox", now=NOW + timedelta(seconds=60), interval=60)
    finish_check(engine, "busybox", now=NOW, digest=DIGEST, outcome="unchanged", message=None)
    assert base_checks_of(engine, ["busybox"])["busybox"].digest == DIGEST

    key = ("acme/webapp", "github", 0)
    assert not claim_run(engine, key, expression="0 4 * * 1 UTC", due=NOW)  # first seen
    assert not claim_run(engine, key, expression="0 4 * * 1 UTC", due=NOW)
    later = NOW + timedelta(days=7)
    assert claim_run(engine, key, expression="0 4 * * 1 UTC", due=later)
    assert not claim_run(engine, key, expression="0 4 * * 1 UTC", due=later)
    assert not claim_run(engine, key, expression="0 3 * * 1 UTC", due=later)  # changed
    with engine.connect() as conn:
        assert conn.execute(select(builds.c.id)).all() == []
