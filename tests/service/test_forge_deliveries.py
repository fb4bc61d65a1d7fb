"""Every forge's deliveries through the real app with a recording queue: signatures,
redeliveries, deletions, pings, wrong forges and the delivery log (nothing here is built)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import pytest
from flask import Flask

from core.signatures import sign_bitbucket, sign_gitea, sign_github
from tests.conftest import SECRET, repo_yaml
from tests.core.fixtures import fixture
from tests.fakes import RecordingQueue
from tests.forge_hooks import (
    AUTH,
    NAMES,
    OTHER_FORGE,
    PUSHES,
    SOME_COMMIT,
    TAG,
    make_hook,
    push_hook,
    rules_text,
    zero_after,
)

pytestmark = pytest.mark.both_databases

DELETIONS = [
    pytest.param("github/push-branch-delete.json", None, id="github"),
    pytest.param("gitea/push-branch.json", zero_after, id="gitea-synthesised"),
    pytest.param("gitlab/push-branch-delete.json", None, id="gitlab"),
    pytest.param("bitbucket-cloud/push-branch-delete.json", None, id="bitbucket-cloud"),
    pytest.param("bitbucket-server/refs-changed-branch-delete.json", None,
                 id="bitbucket-server"),
]


@pytest.fixture
def forges_app(app_factory: Callable[..., Flask]) -> Flask:
    """The real app with NAMES configured (clone URL that does not exist; never cloned)."""
    return app_factory(rules_text())


@pytest.mark.parametrize("flavour", list(PUSHES))
def test_signed_push_queues_one_build(flavour: str, forges_app: Flask,
                                      queue: RecordingQueue) -> None:
    response = push_hook(flavour).post(forges_app.test_client())

    assert response.status_code == 202, response.get_json()
    (build,) = response.get_json()["builds"]
    assert (build["ref"], build["commit"]) == ("refs/heads/main", SOME_COMMIT)
    assert build["repository"] == NAMES[flavour]
    assert queue.enqueued == [build["id"]]


@pytest.mark.parametrize("flavour", list(PUSHES))
def test_wrong_secret_is_401_and_queues_nothing(flavour: str, forges_app: Flask,
                                                queue: RecordingQueue) -> None:
    client = forges_app.test_client()

    response = push_hook(flavour, secret="not-the-secret").post(client)

    assert response.status_code == 401, response.get_json()
    body = response.get_json()
    assert "signature check failed" in body["error"]
    assert not body.get("builds")
    assert queue.enqueued == []
    assert client.get("/api/builds", headers=AUTH).get_json()["builds"] == []


def test_gitea_signature_header_is_checked_before_github_one(
    forges_app: Flask, queue: RecordingQueue,
) -> None:
    hook = push_hook("gitea")
    hook.headers["X-Gitea-Signature"] = sign_gitea(hook.body, "not-the-secret")

    response = hook.post(forges_app.test_client())

    assert response.status_code == 401 and queue.enqueued == []


def test_github_form_signature_must_cover_the_raw_form_body(
    forges_app: Flask, queue: RecordingQueue,
) -> None:
    hook = push_hook("github", form=True)
    (payload,) = parse_qs(hook.body.decode())["payload"]
    hook.headers["X-Hub-Signature-256"] = sign_github(payload.encode(), SECRET)

    response = hook.post(forges_app.test_client())

    assert response.status_code == 401 and queue.enqueued == []


@pytest.mark.parametrize(("file", "edit"), DELETIONS)
def test_deletion_is_ignored_and_builds_nothing(
    file: str, edit: Callable[[dict[str, Any]], None] | None, forges_app: Flask,
    queue: RecordingQueue,
) -> None:
    flavour = fixture(file).provider
    client = forges_app.test_client()

    hook = make_hook(file, NAMES[flavour], edit=edit)
    response = hook.post(client)

    assert 200 <= response.status_code < 300, response.get_json()
    body = response.get_json()
    assert body["builds"] == []
    assert "deleted" in body["ignored"]
    assert queue.enqueued == []
    deliveries = client.get("/api/deliveries", headers=AUTH).get_json()["deliveries"]
    (logged,) = [d for d in deliveries if d["delivery_id"] == hook.delivery]
    assert logged["outcome"] == "ignored" and "deleted" in logged["reason"]


@pytest.mark.parametrize("flavour", list(PUSHES))
def test_redelivery_is_200_duplicate_with_the_same_builds(
    flavour: str, forges_app: Flask, queue: RecordingQueue,
) -> None:
    client = forges_app.test_client()
    hook = push_hook(flavour)

    first = hook.post(client)
    again = push_hook(flavour, delivery=hook.delivery).post(client)

    assert first.status_code == 202, first.get_json()
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["duplicate"] is True
    ids = [b["id"] for b in first.get_json()["builds"]]
    assert len(ids) == 1
    assert [b["id"] for b in again.get_json()["builds"]] == ids
    assert queue.enqueued == ids


@pytest.mark.parametrize("flavour", list(PUSHES))
def test_redelivery_with_a_wrong_signature_is_401_not_duplicate(
    flavour: str, forges_app: Flask, queue: RecordingQueue,
) -> None:
    client = forges_app.test_client()
    hook = push_hook(flavour)
    assert hook.post(client).status_code == 202

    forged = push_hook(flavour, delivery=hook.delivery, secret="not-the-secret").post(client)

    assert forged.status_code == 401, forged.get_json()
    assert "builds" not in forged.get_json() and len(queue.enqueued) == 1


@pytest.mark.parametrize("flavour", list(PUSHES))
def test_rejected_delivery_builds_when_redelivered_after_fixing_the_secret(
    flavour: str, forges_app: Flask, queue: RecordingQueue,
) -> None:
    client = forges_app.test_client()
    rejected = push_hook(flavour, secret="old-secret")
    assert rejected.post(client).status_code == 401

    response = push_hook(flavour, delivery=rejected.delivery).post(client)

    assert response.status_code == 202, response.get_json()
    (build,) = response.get_json()["builds"]
    assert queue.enqueued == [build["id"]]


def test_gitlab_annotated_tag_records_the_tagged_commit(
    forges_app: Flask, queue: RecordingQueue,
) -> None:
    tag_object = "a028c6f9487c8b993e1cd2931a46af88078c8ab9"

    def annotated(payload: dict[str, Any]) -> None:
        payload["checkout_sha"] = payload["commits"][0]["id"] = SOME_COMMIT

    hook = make_hook("gitlab/tag-push-create.json", NAMES["gitlab"], ref=f"refs/tags/{TAG}",
                     commit=tag_object, edit=annotated)

    response = hook.post(forges_app.test_client())

    assert response.status_code == 202, response.get_json()
    (build,) = response.get_json()["builds"]
    assert build["commit"] == SOME_COMMIT


@pytest.mark.parametrize("flavour", list(PUSHES))
def test_repository_of_another_forge_is_404_naming_it(
    flavour: str, forges_app: Flask, queue: RecordingQueue,
) -> None:
    other = NAMES[OTHER_FORGE[flavour]]
    hook = make_hook(PUSHES[flavour], other, ref="refs/heads/main", commit=SOME_COMMIT)

    response = hook.post(forges_app.test_client())

    assert response.status_code == 404, response.get_json()
    error = response.get_json()["error"]
    assert other in error and f"not configured for {hook.forge}" in error
    assert queue.enqueued == []


def test_bitbucket_cloud_push_with_several_changes_builds_each_matching_one(
    app_factory: Callable[..., Flask], queue: RecordingQueue,
) -> None:
    rules = ("      - source_type: branch\n        source: master\n        tag: latest\n"
             "      - source_type: tag\n        source: '/^v[0-9]/'\n        tag: '{sourceref}'\n")
    image = "127.0.0.1:5000/it-forges/multi"
    client = app_factory("repositories:\n" + repo_yaml(
        NAMES["bitbucket-cloud"], provider="bitbucket", image=image, rules=rules)).test_client()
    hook = make_hook("bitbucket-cloud/push-multiple-changes.json", NAMES["bitbucket-cloud"])

    response = hook.post(client)

    assert response.status_code == 202, response.get_json()
    builds = response.get_json()["builds"]
    assert [(b["ref"], b["commit"], b["tags"]) for b in builds] == [
        ("refs/heads/master", "325d37697849f4b1fe42cb19c20134af08e03a82", [f"{image}:latest"]),
        ("refs/tags/v0.1", "1986c228494671574242f99b62d1a00a4bfb69a5", [f"{image}:v0.1"]),
    ]
    assert queue.enqueued == [b["id"] for b in builds]
    deliveries = client.get("/api/deliveries", headers=AUTH).get_json()["deliveries"]
    (logged,) = deliveries
    assert logged["outcome"] == "queued"
    assert logged["refs"] == ["refs/heads/master", "refs/heads/manchu", "refs/tags/v0.1"]
    assert "refs/heads/manchu" in logged["reason"]  # why the unmatched change built nothing


def test_pings_answer_pong_and_build_nothing(forges_app: Flask, queue: RecordingQueue) -> None:
    client = forges_app.test_client()
    github = make_hook("github/ping.json", NAMES["github"])
    server_ping = fixture("bitbucket-server/diagnostics-ping.json").body
    server_headers = {**fixture("bitbucket-server/diagnostics-ping.json").event_headers,
                      "X-Request-Id": "it-ping", "Content-Type": "application/json",
                      "X-Hub-Signature": sign_bitbucket(server_ping, SECRET)}

    for response in (github.post(client),
                     client.post("/hooks/bitbucket", data=server_ping, headers=server_headers)):
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["message"].startswith("pong")
    assert queue.enqueued == []


def test_unknown_forge_is_404(forges_app: Flask) -> None:
    response = forges_app.test_client().post("/hooks/sourcehut", data=b"{}")

    assert response.status_code == 404
    assert "sourcehut" in response.get_json()["error"]


def test_deliveries_list_every_delivery_with_its_outcome(
    forges_app: Flask, queue: RecordingQueue,
) -> None:
    client = forges_app.test_client()
    hooks = [
        (push_hook("github"), "queued", 202),
        (push_hook("gitea", secret="wrong"), "rejected", 401),
        (make_hook("gitlab/push-branch-delete.json", NAMES["gitlab"]), "ignored", 202),
        (make_hook(PUSHES["bitbucket-cloud"], "nobody/here"), "rejected", 404),
        (push_hook("bitbucket-server"), "queued", 202),
        (make_hook("github/ping.json", NAMES["github"]), "ping", 200),
    ]
    for hook, _, status in hooks:
        assert hook.post(client).status_code == status
    redelivered = push_hook("github", delivery=hooks[0][0].delivery).post(client)
    assert redelivered.status_code == 200

    deliveries = client.get("/api/deliveries", headers=AUTH).get_json()["deliveries"]

    by_id = {d["delivery_id"]: d for d in deliveries}
    assert len(deliveries) == len(hooks)  # the redelivery is answered, not logged again
    for hook, outcome, status in hooks:
        logged = by_id[hook.delivery]
        assert (logged["forge"], logged["outcome"], logged["status_code"]) == (
            hook.forge, outcome, status)
        assert (logged["reason"] is None) is (outcome == "queued"), logged
    assert by_id[hooks[0][0].delivery]["build_ids"] == queue.enqueued[:1]
    assert by_id[hooks[3][0].delivery]["repository"] == "nobody/here"


def test_gitlab_retries_share_the_idempotency_key_and_are_duplicates(
    forges_app: Flask, queue: RecordingQueue,
) -> None:
    """GitLab gives every retry a new X-Gitlab-Event-UUID; Idempotency-Key stays."""
    client = forges_app.test_client()
    first = push_hook("gitlab")
    first.headers["Idempotency-Key"] = "idem-1"
    retry = push_hook("gitlab")
    retry.headers["Idempotency-Key"] = "idem-1"
    assert first.headers["X-Gitlab-Event-UUID"] != retry.headers["X-Gitlab-Event-UUID"]

    assert first.post(client).status_code == 202
    again = retry.post(client)

    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert len(queue.enqueued) == 1


def test_a_delivery_id_of_one_repository_cannot_suppress_anothers(
    app_factory: Callable[..., Flask], queue: RecordingQueue,
) -> None:
    """Redeliveries are found by forge, repository and id together."""
    client = app_factory("repositories:\n" + repo_yaml("acme/one") + repo_yaml("acme/two")
                         ).test_client()
    first = make_hook(PUSHES["github"], "acme/one", ref="refs/heads/master", commit=SOME_COMMIT)
    stolen = make_hook(PUSHES["github"], "acme/two", ref="refs/heads/master", commit=SOME_COMMIT,
                       delivery=first.delivery)

    assert first.post(client).status_code == 202
    response = stolen.post(client)

    assert response.status_code == 202, response.get_json()
    assert [b["repository"] for b in response.get_json()["builds"]] == ["acme/two"]
    assert len(queue.enqueued) == 2


def test_anonymous_readers_do_not_see_rejected_delivery_ids(forges_app: Flask) -> None:
    client = forges_app.test_client()
    rejected = push_hook("github", secret="not-the-secret")
    accepted = push_hook("gitea")
    assert rejected.post(client).status_code == 401 and accepted.post(client).status_code == 202

    anonymous = client.get("/api/deliveries").get_json()["deliveries"]
    trusted = client.get("/api/deliveries", headers=AUTH).get_json()["deliveries"]

    assert [d["delivery_id"] for d in anonymous] == [accepted.delivery, None]
    assert [d["delivery_id"] for d in trusted] == [accepted.delivery, rejected.delivery]
    page = client.get("/deliveries").get_data(as_text=True)
    assert rejected.delivery not in page and accepted.delivery in page
