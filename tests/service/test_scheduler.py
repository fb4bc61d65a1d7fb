"""The scheduler's rounds with an injected clock and a recording registry: polling (one HEAD per
base per interval, backing off on 429, pull_auth from the environment) and schedules (once per
due run, however many schedulers), and what the pages then show."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from core.image_refs import canonical
from core.status import BuildStatus
from records.builds import BuildStore
from records.periodic import base_checks_of
from service.registry_client import ManifestAnswer
from service.scheduler import run_once
from tests.conftest import git, make_repo, repo_yaml
from tests.factories import stored_build
from tests.fakes import RecordingManifests, RecordingQueue

BASE = "registry.example.com/team/base:1"
OLD, NEW = "sha256:" + "1" * 64, "sha256:" + "2" * 64
START = datetime(2027, 1, 4, 2, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """A repository with master, release-1, release-2 and the tags v1 and v2."""
    path, _ = make_repo(tmp_path / "src", {"Dockerfile": f"FROM {BASE}\n"}, branch="master")
    work = tmp_path / "src" / "work"
    for name in ("release-1", "release-2"):
        git("branch", name, cwd=work)
    for tag in ("v1", "v2"):
        git("tag", tag, cwd=work)
    subprocess.run(["git", "push", "-q", "origin", "--all"], cwd=work, check=True)
    subprocess.run(["git", "push", "-q", "origin", "--tags"], cwd=work, check=True)
    return path


def rule(source: str = "master", rebuild: str = "", kind: str = "branch") -> str:
    line = f"        rebuild: {rebuild}\n" if rebuild else ""
    return f"      - source_type: {kind}\n        source: {source}\n        tag: latest\n{line}"


def make_app(app_factory: Callable[..., Flask], bare: Path, *rules: str,
             repository: str = "") -> Flask:
    return app_factory("repositories:\n" + repo_yaml(clone_url=f"file://{bare}",
                                                      rules="".join(rules)) + repository)


def built_from(app: Flask, base: str = BASE, digest: str | None = OLD, **plan: Any) -> str:
    store: BuildStore = app.extensions["build_store"]
    build = stored_build(store, BuildStatus.SUCCESS, own_ref=False, **plan)
    store.record_bases(build.id, [(base, digest)])
    return build.id


def queued(app: Flask) -> list[Any]:
    return [b for b in app.extensions["build_store"].list_builds()
            if b.status is BuildStatus.QUEUED]


def test_a_polled_base_that_moved_is_rebuilt_once(app_factory: Callable[..., Flask],
                                                  bare: Path, queue: RecordingQueue) -> None:
    app = make_app(app_factory, bare, rule(rebuild="{check_every: 1h}"))
    built_from(app)
    registry = RecordingManifests({canonical(BASE): ManifestAnswer(digest=NEW)})

    found = run_once(app, now=START, client=registry)
    later = run_once(app, now=START + timedelta(hours=1), client=registry)

    (event,) = found.polled
    assert later.polled == []  # the change is being rebuilt: nothing new to record
    assert [r for r, _ in registry.heads] == [canonical(BASE)] * 2
    (rebuild,) = queued(app)
    assert queue.enqueued == [rebuild.id]
    assert rebuild.trigger == "base_image" and rebuild.plan.pull
    assert rebuild.to_dict()["reason"] == (f"base image {canonical(BASE)} changed from {OLD} "
                                           f"to {NEW} (found by polling the registry)")
    assert (event.kind, event.outcome, event.build_ids) == ("poll", "queued", (rebuild.id,))


def test_a_rate_limited_registry_is_left_alone_for_what_it_asks_and_told(
        app_factory: Callable[..., Flask], bare: Path) -> None:
    app = make_app(app_factory, bare, rule(rebuild="{check_every: 1h}"))
    built_from(app)
    limited = RecordingManifests({canonical(BASE): ManifestAnswer(
        status=429, retry_after=7200, message="the registry's rate limit (429 Too Many "
        "Requests)")})

    for hours in (0, 1, 1.9):
        run_once(app, now=START + timedelta(hours=hours), client=limited)

    assert len(limited.heads) == 1
    check = base_checks_of(app.extensions["build_store"].engine, [canonical(BASE)])[
        canonical(BASE)]
    assert (check.outcome, check.failures) == ("rate_limited", 1)
    assert check.message == ("the registry's rate limit (429 Too Many Requests); backing off: "
                             "next check in 2h")
    assert check.next_check_at == START + timedelta(hours=2)
    run_once(app, now=START + timedelta(hours=2), client=limited)
    assert len(limited.heads) == 2
    page = app.test_client().get("/repos/acme/webapp").get_data(as_text=True)
    assert "rate limited: the registry&#39;s rate limit (429 Too Many Requests)" in page
    assert queued(app) == []


def test_only_polled_rules_registry_bases_are_asked_for(app_factory: Callable[..., Flask],
                                                        bare: Path) -> None:
    pinned = "registry.example.com/team/pinned@sha256:" + "3" * 64
    app = make_app(app_factory, bare, rule(rebuild="{check_every: 1h}"), rule("dev"),
                   rule("local", rebuild="{check_every: 1h}"),
                   rule("pinned", rebuild="{check_every: 1h}"))
    built_from(app, "registry.example.com/team/other:1", rule_index=1, ref="refs/heads/dev")
    built_from(app, "local/busybox:latest", None, rule_index=2, ref="refs/heads/local")
    built_from(app, pinned, "sha256:" + "3" * 64, rule_index=3, ref="refs/heads/pinned")
    registry = RecordingManifests()

    run_once(app, now=START, client=registry)

    assert registry.heads == []


def test_polling_logs_in_with_the_repositorys_pull_auth_from_this_environment(
        app_factory: Callable[..., Flask], bare: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULL_PW", "pull-pa55word")
    rules = repo_yaml(clone_url=f"file://{bare}", rules=rule(rebuild="{check_every: 6h}"))
    rules = rules.replace("    rules:\n", "    pull_auth:\n      - registry: registry.example.com\n"
                          "        username: puller\n        password: '${PULL_PW}'\n    rules:\n")
    app = app_factory("repositories:\n" + rules)
    built_from(app)
    registry = RecordingManifests({canonical(BASE): ManifestAnswer(digest=OLD)})

    run_once(app, now=START, client=registry)

    assert registry.heads == [(canonical(BASE), ("puller", "pull-pa55word"))]
    check = base_checks_of(app.extensions["build_store"].engine, [canonical(BASE)])
    assert check[canonical(BASE)].outcome == "unchanged"


def test_a_schedule_runs_once_per_due_time_however_many_schedulers(
        app_factory: Callable[..., Flask], bare: Path, queue: RecordingQueue) -> None:
    one = make_app(app_factory, bare, rule(rebuild='{schedule: "0 4 * * 1"}'))
    two = make_app(app_factory, bare, rule(rebuild='{schedule: "0 4 * * 1"}'))
    registry = RecordingManifests()

    assert run_once(one, now=START, client=registry).scheduled == []  # first seen: no run
    due = START + timedelta(hours=2, seconds=5)
    first, second = (run_once(app, now=due, client=registry) for app in (one, two))
    (event,) = first.scheduled
    assert second.scheduled == []
    (build,) = queued(one)
    assert queue.enqueued == [build.id]
    assert (build.trigger, build.ref, build.plan.pull) == ("schedule", "refs/heads/master", True)
    assert build.to_dict()["reason"] == ("scheduled rebuild (0 4 * * 1, UTC), due "
                                         "2027-01-04T04:00:00Z")
    assert event.reason == "acme/webapp rule 1: schedule 0 4 * * 1 (UTC)"
    next_week = run_once(one, now=due + timedelta(days=7), client=registry)
    assert len(next_week.scheduled) == 1


def test_a_changed_schedule_starts_over_from_its_next_run(app_factory: Callable[..., Flask],
                                                          bare: Path) -> None:
    app = make_app(app_factory, bare, rule(rebuild='{schedule: "0 4 * * 1"}'))
    registry = RecordingManifests()
    run_once(app, now=START, client=registry)
    rules_file = Path(app.config["RULES_PATH"])
    rules_file.write_text(rules_file.read_text().replace("0 4 * * 1", "0 3 * * 1"))
    app.extensions["rules"]._checked = 0.0
    later = time.time() + 5
    os.utime(rules_file, (later, later))

    changed = run_once(app, now=START + timedelta(hours=3), client=registry)
    after = run_once(app, now=START + timedelta(days=7, hours=1, seconds=1), client=registry)

    assert changed.scheduled == [] and len(after.scheduled) == 1


def test_a_regex_rules_schedule_rebuilds_each_matching_ref(app_factory: Callable[..., Flask],
                                                           bare: Path) -> None:
    app = make_app(app_factory, bare, rule("/^v[0-9]+$/", '{schedule: "0 4 * * 1"}', "tag"))
    registry = RecordingManifests()
    run_once(app, now=START, client=registry)

    (event,) = run_once(app, now=START + timedelta(hours=2), client=registry).scheduled

    assert sorted(b.ref for b in queued(app)) == ["refs/tags/v1", "refs/tags/v2"]
    assert [d.verdict.value for d in event.decisions] == ["queued", "queued"]


def test_a_schedule_of_a_missing_branch_says_why_nothing_was_built(
        app_factory: Callable[..., Flask], bare: Path) -> None:
    app = make_app(app_factory, bare, rule("gone", '{schedule: "0 4 * * 1"}'))
    registry = RecordingManifests()
    run_once(app, now=START, client=registry)

    (event,) = run_once(app, now=START + timedelta(hours=2), client=registry).scheduled

    (decision,) = event.decisions
    assert (decision.verdict.value, decision.reason) == (
        "failed", "acme/webapp: no refs/heads/gone in the repository")
    assert queued(app) == []
    listed = app.test_client().get("/api/rebuilds?repository=acme/webapp").get_json()
    assert listed["rebuilds"][0]["decisions"][0]["verdict"] == "failed"


def test_the_repository_page_shows_the_policy_bases_and_next_run(
        app_factory: Callable[..., Flask], bare: Path) -> None:
    app = make_app(app_factory, bare, rule(rebuild='{check_every: 6h, schedule: "0 4 * * 1", '
                                           'timezone: Europe/Berlin}'))
    build_id = built_from(app)
    page = app.test_client().get("/repos/acme/webapp").get_data(as_text=True)
    assert "on base changes (registry notifications; polled every 6h)" in page
    assert BASE in page and OLD in page
    assert "<code>0 4 * * 1</code> Europe/Berlin" in page and "next run" in page
    build_page = app.test_client().get(f"/builds/{build_id}").get_data(as_text=True)
    assert 'id="bases"' in build_page and OLD in build_page
    api = app.test_client().get(f"/api/builds/{build_id}").get_json()
    assert api["bases"] == [{"reference": BASE, "digest": OLD}]
    assert (api["cause"], api["reason"]) == (None, None)
    assert json.dumps(api)  # plain JSON


def test_builds_filter_by_trigger(app_factory: Callable[..., Flask], bare: Path) -> None:
    app = make_app(app_factory, bare, rule(rebuild='{schedule: "0 4 * * 1"}'))
    pushed = built_from(app)
    registry = RecordingManifests()
    run_once(app, now=START, client=registry)
    run_once(app, now=START + timedelta(hours=2), client=registry)
    (scheduled,) = queued(app)
    client = app.test_client()

    def ids(query: str) -> list[str]:
        return [b["id"] for b in client.get(f"/api/builds?{query}").get_json()["builds"]]

    assert ids("trigger=schedule") == [scheduled.id]
    assert ids("trigger=push") == [pushed]
    assert ids("trigger=base_image") == []
    dashboard = client.get("/?trigger=schedule").get_data(as_text=True)
    assert scheduled.id in dashboard and pushed not in dashboard
    page = client.get("/repos/acme/webapp?trigger=push").get_data(as_text=True)
    listed = page[page.index('id="builds-list"'):]
    assert pushed in listed and scheduled.id not in listed
