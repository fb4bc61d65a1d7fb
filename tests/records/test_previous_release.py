"""A database written by the previous release reads back unchanged after `upgrade`.

tests/samples/db/ holds what release 789ca48 (the last one without migrations) wrote, as SQL
dumps, and what its read functions returned then. Loading a dump gives a database with no
alembic_version, as every installation of that release has: `upgrade` adopts it, and today's
read functions must return what the release returned, timestamps included.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from core.decision import DeliveryOutcome
from core.plan import BuildPlan
from core.status import BuildStatus
from records import migrate
from records.builds import BuildStore
from records.db import iso
from records.deliveries import DeliveryLog
from tests.records.migration_support import BACKENDS, SAMPLES, Databases, make_databases


@pytest.fixture(params=BACKENDS)
def upgraded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Any]]:
    """The previous release's sample database after `upgrade`, and what it held back then."""
    databases: Databases = make_databases(request.param, tmp_path)
    engine = databases.load_previous_release()
    result = migrate.upgrade(engine)
    assert result.adopted and result.after == migrate.head_revision()
    expected = json.loads((SAMPLES / f"previous_release.{request.param}.json").read_text("utf-8"))
    assert expected["release"] == "789ca48"
    yield engine, expected
    databases.close()


# How today's records/ reads each kind of row. When records/ renames a read function or moves a
# helper, change these two functions; never the expected JSON, which is what 789ca48 returned.

REQUIRED_PLAN_FIELDS = ("repository", "provider", "rule_index", "ref", "commit", "clone_url",
                        "image", "tags", "dockerfile", "context")


def read_build(store: BuildStore, build_id: str, want: dict[str, Any]) -> dict[str, Any]:
    """A build as the samples hold it: the API object, its plan, log and log bookkeeping.

    Plans and the API object gained fields since; those read back empty (the builder reads
    back as the classic one, the only builder then; the queue as `builds`, the only queue
    then). The release
    listed secret build arguments by name with their values in build_args: such a plan reads
    back with the values still in build_args (masked by their names) and no references.
    """
    build = store.get_build(build_id)
    assert build is not None, f"build {build_id} is gone"
    old_plan = want["plan"]
    api = build.to_dict()
    assert {key: api.pop(key) for key in ("builder", "platforms", "platform_digests",
                                          "bases", "queue")} == {
        "builder": "classic", "platforms": [], "platform_digests": [], "bases": [],
        "queue": "builds"}
    added = {key: api.pop(key) for key in set(api) - set(want["api"])}
    assert all(value is None for value in added.values()), f"new API fields: {added}"
    plan = build.plan.to_dict()
    new_fields = {key: plan.pop(key) for key in set(plan) - set(old_plan)}
    fresh = BuildPlan(**{k: old_plan[k] for k in REQUIRED_PLAN_FIELDS}).to_dict()
    fresh["builder"] = "classic"
    assert new_fields == {key: fresh[key] for key in new_fields}, "new fields read as defaults"
    legacy_names = old_plan["secret_build_args"]
    assert plan["secret_build_args"] == []
    assert set(legacy_names) <= {name for name, _ in plan["build_args"]}
    plan["secret_build_args"] = legacy_names
    return {"api": api, "plan": plan, "log": store.get_log(build_id),
            "log_size": build.log_size, "heartbeat_at": iso(build.heartbeat_at)}


def read_deliveries(engine: Engine, store: BuildStore) -> list[dict[str, Any]]:
    """Every delivery's API object, oldest first."""
    log = DeliveryLog(engine, store)
    return [d.to_dict() for d in reversed(log.recent_deliveries(limit=1000))]


def test_every_build_and_log_reads_back_unchanged(upgraded: tuple[Engine, Any]) -> None:
    engine, expected = upgraded
    store = BuildStore(engine)
    wanted = {b["api"]["id"]: b for b in expected["builds"]}
    assert {b.id for b in store.list_builds(limit=1000)} == set(wanted)
    assert {b["api"]["status"] for b in wanted.values()} >= {
        "queued", "building", "success", "failed", "superseded", "timed_out"}
    for build_id, want in wanted.items():
        got = read_build(store, build_id, want)
        api = want["api"]
        if api["started_at"] and not api["finished_at"]:
            # still running: its duration is "until now", so it only grew since the sample
            assert got["api"]["duration_seconds"] >= api["duration_seconds"]
            got["api"]["duration_seconds"] = api["duration_seconds"]
        assert got == want, f"build {build_id} ({api['status']}) reads back differently"


def test_the_long_log_keeps_every_chunk_and_character(upgraded: tuple[Engine, Any]) -> None:
    engine, expected = upgraded
    store = BuildStore(engine)
    longest = max(expected["builds"], key=lambda b: len(b["log"]))
    chunks = store.log_chunks(longest["api"]["id"])
    assert len(chunks) > 40
    assert [seq for seq, _ in chunks] == list(range(1, len(chunks) + 1))
    assert "".join(text for _, text in chunks) == longest["log"]
    assert "日本語のログ" in longest["log"] and "🐳" in longest["log"] and "\r\n" in longest["log"]


def test_every_delivery_reads_back_unchanged(upgraded: tuple[Engine, Any]) -> None:
    engine, expected = upgraded
    got = read_deliveries(engine, BuildStore(engine))
    assert {d["outcome"] for d in got} == {"queued", "ignored", "rejected", "ping", "duplicate"}
    assert got == expected["deliveries"]


def test_the_upgraded_database_keeps_working(upgraded: tuple[Engine, Any]) -> None:
    engine, expected = upgraded
    store = BuildStore(engine)
    log = DeliveryLog(engine, store)
    first = expected["deliveries"][0]
    redelivery = dict(forge=first["forge"], delivery_id=first["delivery_id"], event="push",
                      repository=first["repository"], refs=first["refs"],
                      outcome=DeliveryOutcome.QUEUED,
                      reason=None, status_code=202, accepted=True)
    assert log.record_delivery(**redelivery) is None, "the dedupe constraint was lost"
    recorded = log.record_delivery(**{**redelivery, "delivery_id": "after-upgrade"})
    assert recorded is not None
    assert recorded[0].id > max(d["id"] for d in expected["deliveries"])

    running = next(b for b in expected["builds"] if b["api"]["status"] == "building")
    store.append_log(running["api"]["id"], "after the upgrade ✓\n")
    assert store.get_log(running["api"]["id"]) == running["log"] + "after the upgrade ✓\n"
    assert store.set_status(running["api"]["id"], BuildStatus.FAILED, error="worker lost")
