"""What each notification says: the per-forge commit-status requests, the few-word
descriptions, and the Docker Hub and Slack payloads (pure builders, no I/O)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from core.credentials import SecretRef
from core.notify.facts import BuildFacts, describe, failing_step
from core.notify.fanout import notifications_for, notifies
from core.notify.statuses import REPORTED, bounded_key, status_request
from core.notify.targets import StatusTarget, WebhookTarget
from core.notify.webhooks import dockerhub_payload, sign, slack_payload, webhook_request
from core.status import BuildStatus
from tests.factories import make_plan

SHA = "4522cbcefc20728a5b72b3a86af35e608622c514"
AT = datetime(2025, 3, 1, 12, 0, 5, tzinfo=UTC)
CREATED = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
URL = "https://ci.example.com/builds/0195f0a1b2c3d4e5f6a7b8"
TOKEN = SecretRef(env="STATUS_TOKEN")


def facts(status: BuildStatus = BuildStatus.SUCCESS, **changes: Any) -> BuildFacts:
    values: dict[str, Any] = {
        "build_id": "0195f0a1b2c3d4e5f6a7b8", "repository": "acme/webapp", "provider": "github",
        "ref": "refs/heads/main", "commit": SHA, "status": status,
        "tags": ("registry.example.com/acme/webapp:latest",
                 "registry.example.com/acme/webapp:v1.2"),
        "at": AT, "created_at": CREATED, "image": "registry.example.com/acme/webapp",
        "digest": "sha256:" + "d" * 64, "build_url": URL,
    }
    values.update(changes)
    return BuildFacts(**values)


def target(forge: str, api_url: str, **changes: Any) -> StatusTarget:
    return replace(StatusTarget(forge=forge, api_url=api_url, token=TOKEN,
                                context="autobuild/latest"), **changes)


STATUS_CASES = [
    pytest.param(target("github", "https://api.github.com"),
                 "https://api.github.com/repos/acme/webapp/statuses/" + SHA,
                 {"state": "success", "target_url": URL, "description": "pushed latest, v1.2",
                  "context": "autobuild/latest"}, "bearer", id="github"),
    pytest.param(target("gitea", "https://git.example.com/api/v1"),
                 "https://git.example.com/api/v1/repos/acme/webapp/statuses/" + SHA,
                 {"state": "success", "target_url": URL, "description": "pushed latest, v1.2",
                  "context": "autobuild/latest"}, "token", id="gitea"),
    pytest.param(target("gitlab", "https://gitlab.com/api/v4"),
                 "https://gitlab.com/api/v4/projects/acme%2Fwebapp/statuses/" + SHA,
                 {"state": "success", "name": "autobuild/latest", "ref": "main",
                  "description": "pushed latest, v1.2", "target_url": URL},
                 "private-token", id="gitlab"),
    pytest.param(target("bitbucket-cloud", "https://api.bitbucket.org", username="builder"),
                 "https://api.bitbucket.org/2.0/repositories/acme/webapp/commit/" + SHA
                 + "/statuses/build",
                 {"key": "autobuild/latest", "state": "SUCCESSFUL", "name": "autobuild/latest",
                  "description": "pushed latest, v1.2", "refname": "main", "url": URL},
                 "basic", id="bitbucket-cloud-app-password"),
    pytest.param(target("bitbucket-server", "https://bitbucket.example.com"),
                 "https://bitbucket.example.com/rest/build-status/1.0/commits/" + SHA,
                 {"state": "SUCCESSFUL", "key": "autobuild/latest", "name": "autobuild/latest",
                  "url": URL, "description": "pushed latest, v1.2"}, "bearer",
                 id="bitbucket-server"),
]


@pytest.mark.parametrize(("status_target", "url", "body", "scheme"), STATUS_CASES)
def test_status_request_per_forge(status_target: StatusTarget, url: str, body: dict[str, Any],
                                  scheme: str) -> None:
    request = status_request(status_target, facts())

    assert request.url == url
    assert json.loads(request.body) == body
    assert request.auth is not None and request.auth.scheme == scheme
    assert request.auth.token == TOKEN
    assert dict(request.headers)["Content-Type"] == "application/json"
    assert "STATUS_TOKEN" not in request.body.decode()


STATES = {  # forge -> the state of queued, started, success, failed, cancelled, timed out,
    # superseded, skipped
    "github": ["pending", "pending", "success", "failure", "error", "failure", "error", "success"],
    "gitea": ["pending", "pending", "success", "failure", "error", "failure", "error", "success"],
    "gitlab": ["pending", "running", "success", "failed", "canceled", "failed", "canceled",
               "skipped"],
    "bitbucket-cloud": ["INPROGRESS", "INPROGRESS", "SUCCESSFUL", "FAILED", "STOPPED", "FAILED",
                        "STOPPED", "SUCCESSFUL"],
    "bitbucket-server": ["INPROGRESS", "INPROGRESS", "SUCCESSFUL", "FAILED", "FAILED", "FAILED",
                         "FAILED", "SUCCESSFUL"],
}
ORDER = [BuildStatus.QUEUED, BuildStatus.CLONING, BuildStatus.SUCCESS, BuildStatus.FAILED,
         BuildStatus.CANCELLED, BuildStatus.TIMED_OUT, BuildStatus.SUPERSEDED,
         BuildStatus.SKIPPED]


@pytest.mark.parametrize("forge", list(STATES))
def test_every_reported_transition_has_the_forges_state(forge: str) -> None:
    status_target = target(forge, "https://api.example.com")

    states = [json.loads(status_request(status_target, facts(s)).body)["state"] for s in ORDER]

    assert states == STATES[forge]
    assert set(ORDER) == REPORTED


def test_no_public_url_means_no_target_url_except_bitbucket_servers_mandatory_url() -> None:
    bare = facts(build_url=None)

    bodies = {forge: json.loads(status_request(target(forge, "https://api.example.com"),
                                               bare).body) for forge in STATES}

    assert "target_url" not in bodies["github"] and "target_url" not in bodies["gitlab"]
    assert "url" not in bodies["bitbucket-cloud"]
    assert bodies["bitbucket-server"]["url"] == "https://api.example.com"


def test_gitlab_subgroups_are_one_url_encoded_path() -> None:
    request = status_request(target("gitlab", "https://gitlab.com/api/v4"),
                             facts(repository="group/sub/app"))

    assert request.url == f"https://gitlab.com/api/v4/projects/group%2Fsub%2Fapp/statuses/{SHA}"


DESCRIPTIONS = [
    pytest.param(facts(BuildStatus.QUEUED), "queued", id="queued"),
    pytest.param(facts(BuildStatus.CLONING), "started", id="started"),
    pytest.param(facts(), "pushed latest, v1.2", id="success"),
    pytest.param(facts(error="Step 3/7 : RUN make: The command '/bin/sh -c make' returned a "
                       "non-zero code: 2", status=BuildStatus.FAILED),
                 "failed at step 3/7", id="failed-classic-step"),
    pytest.param(facts(error="[builder 2/4] RUN false: process did not complete successfully",
                       status=BuildStatus.FAILED), "failed at step 2/4", id="failed-buildkit"),
    pytest.param(facts(error="fetching the commit failed: repository not found",
                       status=BuildStatus.FAILED),
                 "failed: fetching the commit failed: repository not found", id="failed-clone"),
    pytest.param(facts(BuildStatus.SUPERSEDED, superseded_by_commit="abc1234def" + "0" * 30),
                 "superseded by abc1234", id="superseded"),
    pytest.param(facts(BuildStatus.CANCELLED, error="cancelled by alice"),
                 "cancelled by alice", id="cancelled"),
    pytest.param(facts(BuildStatus.TIMED_OUT, error="build timed out: it ran longer than 60 s"),
                 "timed out", id="timed-out"),
    pytest.param(facts(BuildStatus.SKIPPED, error="no changed file matches included_files"),
                 "skipped: no changed file matches included_files", id="skipped"),
]


@pytest.mark.parametrize(("build", "text"), DESCRIPTIONS)
def test_descriptions_say_what_happened_in_a_few_words(build: BuildFacts, text: str) -> None:
    assert describe(build) == text


def test_descriptions_are_bounded_to_the_forge_limit() -> None:
    many = tuple(f"registry.example.com/acme/webapp:tag-number-{n}" for n in range(30))
    long_error = "x" * 1000

    pushed = describe(facts(tags=many), 140)
    failed = describe(facts(BuildStatus.FAILED, error=long_error), 140)

    assert len(pushed) <= 140 and pushed.startswith("pushed tag-number-0, ")
    assert pushed.endswith(" more")
    assert len(failed) == 140 and failed.endswith("…")
    body = json.loads(status_request(target("github", "https://api.github.com"),
                                     facts(BuildStatus.FAILED, error=long_error)).body)
    assert len(body["description"]) == 140


def test_failing_step_reads_both_builders() -> None:
    assert failing_step("Step 12/15 : RUN x: boom") == "12/15"
    assert failing_step("#7 [3/7] RUN false") == "3/7"
    assert failing_step("no step here") is None


def test_long_contexts_get_a_stable_bounded_key() -> None:
    context = "autobuild/" + "{sourceref}-" * 10

    key = bounded_key(context, 40)

    assert len(key) == 40 and key == bounded_key(context, 40)
    assert key != bounded_key(context + "x", 40)
    assert bounded_key("autobuild/latest", 40) == "autobuild/latest"


def test_dockerhub_payload_has_docker_hubs_shape_plus_autobuild() -> None:
    payload = dockerhub_payload(facts(), "success")

    assert set(payload) == {"callback_url", "push_data", "repository", "autobuild"}
    assert payload["push_data"] == {"pushed_at": int(AT.timestamp()), "pusher": "autobuild",
                                    "tag": "latest", "images": ["sha256:" + "d" * 64]}
    assert set(payload["repository"]) == {
        "comment_count", "date_created", "description", "dockerfile", "full_description",
        "is_official", "is_private", "is_trusted", "name", "namespace", "owner", "repo_name",
        "repo_url", "star_count", "status"}
    assert (payload["repository"]["repo_name"], payload["repository"]["namespace"],
            payload["repository"]["name"]) == ("acme/webapp", "acme", "webapp")
    assert payload["repository"]["date_created"] == int(CREATED.timestamp())
    assert payload["autobuild"]["tags"] == [
        {"reference": "registry.example.com/acme/webapp:latest", "tag": "latest",
         "digest": "sha256:" + "d" * 64},
        {"reference": "registry.example.com/acme/webapp:v1.2", "tag": "v1.2",
         "digest": "sha256:" + "d" * 64}]
    assert {k: payload["autobuild"][k] for k in ("build_id", "status", "commit", "ref",
                                                  "build_url")} == {
        "build_id": "0195f0a1b2c3d4e5f6a7b8", "status": "success", "commit": SHA,
        "ref": "refs/heads/main", "build_url": URL}


@pytest.mark.parametrize(("image", "repo_name"), [
    ("127.0.0.1:5000/team/app", "team/app"), ("acme/webapp", "acme/webapp"),
    ("registry.example.com/a/b/c", "a/b/c"), ("localhost/app", "app")])
def test_dockerhub_repo_name_is_the_image_path_without_registry(image: str,
                                                                repo_name: str) -> None:
    assert dockerhub_payload(facts(image=image), "success")["repository"][
        "repo_name"] == repo_name


def test_slack_message_has_text_for_every_chat_and_blocks_for_slack() -> None:
    message = slack_payload(facts(), "success")

    assert message["text"] == (f"acme/webapp main@4522cbc: success (pushed latest, v1.2) "
                               f"<{URL}|build 0195f0a1b2c3d4e5f6a7b8>")
    fields = [f["text"] for f in message["blocks"][1]["fields"]]
    assert fields == ["*Repository*\nacme/webapp", "*Ref*\n`main`", "*Commit*\n`4522cbc`",
                      "*Status*\nsuccess", "*Tags*\n`latest`, `v1.2`"]
    link = message["blocks"][2]["elements"][0]["text"]
    assert link == f"<{URL}|Open build 0195f0a1b2c3d4e5f6a7b8>"


def test_webhook_request_names_its_secret_and_headers_without_values() -> None:
    hook = WebhookTarget(url="https://deploy.example.com/hook", secret=SecretRef(env="HOOK"))

    request = webhook_request(hook, facts(), event="success", delivery_id="d-1")

    assert request.url == "https://deploy.example.com/hook"
    assert request.signing_secret == SecretRef(env="HOOK")
    assert dict(request.headers) == {"Content-Type": "application/json",
                                     "User-Agent": "Autobuild-Hookshot/1",
                                     "X-Autobuild-Event": "success",
                                     "X-Autobuild-Delivery": "d-1"}


def test_signature_is_githubs_shape_over_the_raw_body() -> None:
    body = b'{"a": 1}'

    assert sign(body, "It's a Secret to Everybody") == "sha256=" + hmac.new(
        b"It's a Secret to Everybody", body, hashlib.sha256).hexdigest()
    assert sign(b"Hello, World!", "It's a Secret to Everybody") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")


def test_fanout_makes_a_status_per_reported_transition_and_webhooks_per_asked_event() -> None:
    plan = make_plan(status=target("github", "https://api.github.com"), notify=(
        WebhookTarget(url="https://a.example.com/h"),
        WebhookTarget(url="https://b.example.com/h", events=("failed",))))
    ids = iter(f"n{i}" for i in range(100))

    def made(status: BuildStatus) -> list[tuple[str, str]]:
        return [(n.kind, n.target_key) for n in
                notifications_for(plan, facts(status), new_id=lambda: next(ids))]

    assert made(BuildStatus.QUEUED) == [("commit_status", "status:autobuild/latest")]
    assert made(BuildStatus.BUILDING) == []
    assert made(BuildStatus.SUCCESS) == [("commit_status", "status:autobuild/latest"),
                                         ("webhook", "notify:0")]
    assert made(BuildStatus.FAILED) == [("commit_status", "status:autobuild/latest"),
                                        ("webhook", "notify:1")]


@pytest.mark.parametrize("plan", [
    pytest.param(make_plan(), id="no-targets"),
    pytest.param(make_plan(status=target("github", "https://api.github.com")), id="status"),
    pytest.param(make_plan(notify=(WebhookTarget(url="https://a.example.com/h",
                                                 events=("failed",)),)), id="hook-on-failed"),
])
def test_notifies_says_exactly_when_fanout_makes_something(plan: Any) -> None:
    for status in BuildStatus:
        made = notifications_for(plan, facts(status), new_id=lambda: "n")
        assert notifies(plan, status) is bool(made), status
