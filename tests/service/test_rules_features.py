"""Every rules feature through the real Flask app: a push in, the right builds or the reason out."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import SECRET, WebhookSender, repo_yaml
from tests.core.fixtures import FIXTURES_DIR
from tests.fakes import RecordingQueue

SHA = "199eddf46df50de8d02e99bf1c5fdb4101338224"
PREVIOUS = "a10867b14bb761a232cd80139fbd4c0d33264240"


def push(ref: str, *, message: str = "Update README", files: list[str] | None = None,
         before: str = PREVIOUS, forced: bool = False, created: bool = False) -> dict[str, Any]:
    """The real GitHub push payload for `ref`, with its commit message and changed files set."""
    payload: dict[str, Any] = json.loads((FIXTURES_DIR / "github/push-branch.json").read_bytes())
    payload.update(ref=ref, before=before, after=SHA, forced=forced, created=created)
    payload["head_commit"]["message"] = message
    commit = payload["commits"][0]
    commit["message"] = message
    commit["added"], commit["removed"], commit["modified"] = [], [], files or ["README.md"]
    payload["commits"] = [commit]
    return payload


def post(app_factory: Callable[..., Flask], rules: str | None, payload: dict[str, Any]
         ) -> dict[str, Any]:
    """POST a signed push for Codertocat/Hello-World configured with `rules`."""
    app = app_factory("repositories:\n" + repo_yaml("Codertocat/Hello-World", rules=rules))
    response = WebhookSender(app.test_client()).github(payload)
    assert response.status_code == 202, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def tags_of(answer: dict[str, Any]) -> list[list[str]]:
    return [[t.rsplit(":", 1)[1] for t in b["tags"]] for b in answer["builds"]]


def rule(source_type: str, source: str, tag: str, extra: str = "") -> str:
    return (f"      - source_type: {source_type}\n        source: '{source}'\n"
            f"        tag: '{tag}'\n{extra}")


@pytest.mark.parametrize(("rules", "ref", "expected"), [
    pytest.param(rule("tag", r"/^v([0-9.]+)$/", r"v{\1}"), "refs/tags/v1.2.3", [["v1.2.3"]],
                 id="dh-capture-group"),
    pytest.param(rule("tag", r"/^v([0-9.]+)$/", r"v{\1}"), "refs/tags/v1.2.3-rc1", [],
                 id="dh-capture-group-no-match"),
    pytest.param(rule("branch", "/[0-9.]+$/", "version-{sourceref}"), "refs/heads/release-1.2",
                 [["version-release-1.2"]], id="dh-whole-sourceref"),
    pytest.param(rule("tag", "/^[0-9.]+/", "release-{sourceref}"), "refs/tags/1.2.0-rc",
                 [["release-1.2.0-rc"]], id="dh-unanchored-search"),
    pytest.param(rule("tag", "/^([0-9.]+)$/", "{sourceref},latest"), "refs/tags/1.4",
                 [["1.4", "latest"]], id="dh-several-tags"),
    pytest.param(rule("branch", "master", "latest"), "refs/tags/master", [],
                 id="branch-rule-never-fires-for-tag"),
    pytest.param(rule("branch", "/^feature/", "{sourceref}"), "refs/heads/feature/login",
                 [["feature-login"]], id="sanitised-slash"),
    pytest.param(rule("tag", "/^v/", "{version},{major}.{minor},latest"), "refs/tags/v1.2.3",
                 [["1.2.3", "1.2", "latest"]], id="semver"),
    pytest.param(rule("tag", "/^v/", "{major}.{minor}"), "refs/tags/v2.0.8-beta.67", [],
                 id="semver-prerelease-renders-nothing"),
    pytest.param(None, "refs/heads/master", [["latest"]], id="default-rules-without-rules-key"),
])
def test_push_makes_the_tags_docker_hub_would(
    app_factory: Callable[..., Flask], rules: str | None, ref: str, expected: list[list[str]]
) -> None:
    if rules is None:
        app = app_factory("repositories:\n" + repo_yaml("Codertocat/Hello-World").split(
            "    rules:\n")[0])
        answer = WebhookSender(app.test_client()).github(push(ref)).get_json()
    else:
        answer = post(app_factory, rules, push(ref))
    assert tags_of(answer) == expected
    if not expected:
        assert answer["ignored"]


def test_autobuild_false_never_builds_on_push(app_factory: Callable[..., Flask]) -> None:
    answer = post(app_factory, rule("branch", "master", "latest", "        autobuild: false\n"),
                  push("refs/heads/master"))
    assert answer["builds"] == []
    assert "autobuild" in answer["ignored"]


@pytest.mark.parametrize("marker", ["[skip build]", "[BUILD SKIP]", "[Skip CI]"])
def test_skip_marker_in_head_commit_skips_with_reason(
    app_factory: Callable[..., Flask], marker: str
) -> None:
    answer = post(app_factory, None, push("refs/heads/master", message=f"docs {marker}"))
    assert answer["builds"] == []
    assert marker.lower() in answer["ignored"].lower()


FILTER = "        included_files: ['svc-a/**']\n        ignored_files: ['**/*.md']\n"


@pytest.mark.parametrize(("files", "builds"), [
    pytest.param(["svc-a/main.go"], True, id="included"),
    pytest.param(["svc-b/main.go"], False, id="not-included"),
    pytest.param(["svc-a/README.md"], False, id="only-ignored"),
    pytest.param(["svc-a/deep/x/y.go", "docs/a.md"], True, id="double-star"),
])
def test_path_filters_from_payload_files(
    app_factory: Callable[..., Flask], queue: RecordingQueue, files: list[str], builds: bool
) -> None:
    answer = post(app_factory, rule("branch", "master", "latest", FILTER),
                  push("refs/heads/master", files=files))
    assert bool(answer["builds"]) is builds
    assert (answer["builds"][0]["status"] == "queued") if builds else answer["ignored"]
    assert len(queue.enqueued) == int(builds)


def test_forced_push_defers_path_filter_to_the_worker(app_factory: Callable[..., Flask],
                                                      tmp_path: Path) -> None:
    app = app_factory("repositories:\n" + repo_yaml(
        "Codertocat/Hello-World", rules=rule("branch", "master", "latest", FILTER)))
    answer = WebhookSender(app.test_client()).github(
        push("refs/heads/master", files=["svc-b/x"], forced=True)).get_json()
    (build,) = answer["builds"]
    stored = app.extensions["build_store"].get_build(build["id"])
    assert stored.plan.path_filter is not None
    assert stored.plan.path_filter.included_files == ("svc-a/**",)


def test_new_branch_is_not_path_filtered(app_factory: Callable[..., Flask]) -> None:
    answer = post(app_factory, rule("branch", "master", "latest", FILTER),
                  push("refs/heads/master", files=["svc-b/x"], before="0" * 40, created=True))
    assert len(answer["builds"]) == 1


def test_same_commit_is_not_built_twice_for_a_rule(app_factory: Callable[..., Flask],
                                                   queue: RecordingQueue) -> None:
    app = app_factory("repositories:\n" + repo_yaml("Codertocat/Hello-World"))
    sender = WebhookSender(app.test_client())
    first = sender.github(push("refs/heads/master"), delivery="one").get_json()
    again = sender.github(push("refs/heads/master"), delivery="two").get_json()
    assert len(first["builds"]) == 1 and again["builds"] == []
    assert first["builds"][0]["id"] in again["ignored"]
    assert len(queue.enqueued) == 1


def test_arrival_order_decides_nothing_the_worker_orders_by_git(
        app_factory: Callable[..., Flask]) -> None:
    """A later delivery may carry an older commit: both wait, and the worker (which has the
    history) builds the newest and supersedes the other."""
    app = app_factory("repositories:\n" + repo_yaml("Codertocat/Hello-World"))
    client = app.test_client()
    sender = WebhookSender(client)
    first = sender.github(push("refs/heads/master")).get_json()["builds"][0]
    later_payload = push("refs/heads/master")
    later_payload.update(after=PREVIOUS, forced=True)
    later = sender.github(later_payload).get_json()["builds"][0]
    for build in (first, later):
        assert client.get(f"/api/builds/{build['id']}").get_json()["status"] == "queued"
    plan = app.extensions["build_store"].get_build(later["id"]).plan
    assert (plan.forced, plan.before) == (True, later_payload["before"])


def test_build_args_and_target_reach_the_plan(app_factory: Callable[..., Flask],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IT_FLAVOUR", "spicy")
    extra = "        build_args: {FLAVOUR: '${IT_FLAVOUR}', LEVEL: '3'}\n        target: runtime\n"
    app = app_factory("repositories:\n" + repo_yaml(
        "Codertocat/Hello-World", rules=rule("branch", "master", "latest", extra)))
    (build,) = WebhookSender(app.test_client()).github(push("refs/heads/master")).get_json()[
        "builds"]
    plan = app.extensions["build_store"].get_build(build["id"]).plan
    assert dict(plan.build_args) == {"FLAVOUR": "spicy", "LEVEL": "3"}
    assert plan.target == "runtime"


def test_secret_is_not_in_any_answer(app_factory: Callable[..., Flask]) -> None:
    app = app_factory("repositories:\n" + repo_yaml("Codertocat/Hello-World"))
    sender = WebhookSender(app.test_client())
    for response in (sender.github(push("refs/heads/master")),
                     sender.github(push("refs/heads/other")),
                     sender.github(push("refs/heads/x"), signature="sha256=" + "0" * 64)):
        assert SECRET not in response.get_data(as_text=True)
