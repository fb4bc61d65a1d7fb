"""Every forge end to end: a real payload, rewritten and signed, becomes a pushed image.

The building tests (marked `integration`) run on the real stack: the real app, Redis queue,
worker process, Docker engine and registry. The cheap checks (bad signatures, deletions,
redeliveries, wrong forge, several Bitbucket changes, the delivery log) use the non-integration
`app_factory` app with a RecordingQueue, so nothing they queue is ever built.

Fixture files are never modified: each is loaded, rewritten as a parsed object, dumped and
signed afresh, so the signature is over the exact bytes posted.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus

import docker
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from core.events import ZERO_SHA, short_ref
from core.signatures import sign_bitbucket, sign_gitea, sign_github
from tests.conftest import API_TOKEN, SECRET, git, make_repo, repo_yaml
from tests.core.fixtures import fixture
from tests.fakes import RecordingQueue
from tests.integration.conftest import (
    BASE_IMAGE,
    RulesWriter,
    read_file_from_registry_image,
    registry_digest,
    unique_image,
    wait_for_build,
)

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
TAG = "v1.2.3"
ANNOTATED_TAG = "v2.0.0"
FORM = "application/x-www-form-urlencoded"
RULES = ("      - source_type: branch\n        source: main\n        tag: latest\n"
         "      - source_type: tag\n        source: '/^v[0-9]/'\n        tag: '{sourceref}'\n")

# One configured repository per forge flavour, named as that forge's parser reads it.
NAMES = {
    "github": "it-forges/gh-app",
    "gitea": "it-forges/gitea-app",
    "gitlab": "it-group/sub-group/gl-app",  # path_with_namespace, with a subgroup
    "bitbucket-cloud": "it-ws/bbc-app",  # repository.full_name
    "bitbucket-server": "ITPROJ/bbs-app",  # PROJECT_KEY/slug as the payload spells it
}
PROVIDER = {"github": "github", "gitea": "gitea", "gitlab": "gitlab",
            "bitbucket-cloud": "bitbucket", "bitbucket-server": "bitbucket"}
# A repository configured under another forge than each flavour's endpoint.
OTHER_FORGE = {"github": "gitlab", "gitea": "github", "gitlab": "gitea",
               "bitbucket-cloud": "github", "bitbucket-server": "gitea"}


# --- rewriting and signing real payloads ------------------------------------------------------

def rename(flavour: str, payload: dict[str, Any], name: str) -> None:
    """Make `payload` name repository `name` in the field the forge's parser reads."""
    if flavour == "gitlab":
        payload["project"]["path_with_namespace"] = name
    elif flavour == "bitbucket-server":
        key, slug = name.split("/")
        payload["repository"]["project"]["key"] = key
        payload["repository"]["slug"] = slug
    else:
        payload["repository"]["full_name"] = name


def retarget(flavour: str, payload: dict[str, Any], ref: str, commit: str,
             before: str = ZERO_SHA) -> None:
    """Make `payload` push `commit` to `ref` (before = 40 zeros: the ref is created there)."""
    short = short_ref(ref)
    is_tag = ref.startswith("refs/tags/")
    if flavour in ("github", "gitea", "gitlab"):
        payload.update(ref=ref, before=before, after=commit)
        if flavour == "gitlab":
            payload["checkout_sha"] = commit
        if "created" in payload:
            payload["created"] = before == ZERO_SHA
        if payload.get("head_commit"):
            payload["head_commit"]["id"] = commit
        if payload.get("commits"):
            payload["commits"][0]["id"] = commit
    elif flavour == "bitbucket-cloud":
        change = payload["push"]["changes"][0]
        change["new"].update(type="tag" if is_tag else "branch", name=short)
        change["new"]["target"]["hash"] = commit
        if before == ZERO_SHA:  # Cloud has no zero SHAs: a created ref has no old side
            change.update(old=None, created=True)
        else:
            change["old"].update(type="tag" if is_tag else "branch", name=short)
            change["old"]["target"]["hash"] = before
    elif flavour == "bitbucket-server":
        change = payload["changes"][0]
        change["ref"].update(id=ref, displayId=short, type="TAG" if is_tag else "BRANCH")
        change.update(refId=ref, fromHash=before, toHash=commit,
                      type="ADD" if before == ZERO_SHA else "UPDATE")
        if payload.get("toCommit"):
            payload["toCommit"].update(id=commit, displayId=commit[:11])
    else:
        raise AssertionError(flavour)


def auth_headers(flavour: str, body: bytes, secret: str) -> dict[str, str]:
    """The signature (or token) headers the forge sends for `body`."""
    if flavour == "github":
        return {"X-Hub-Signature-256": sign_github(body, secret)}
    if flavour == "gitea":  # Gitea sends its bare-hex header and GitHub's prefixed one
        return {"X-Gitea-Signature": sign_gitea(body, secret),
                "X-Hub-Signature-256": sign_github(body, secret)}
    if flavour == "gitlab":
        return {"X-Gitlab-Token": secret}
    return {"X-Hub-Signature": sign_bitbucket(body, secret)}


def delivery_headers(flavour: str, delivery: str) -> dict[str, str]:
    """The delivery id headers (and the extra headers) the forge sends."""
    return {
        "github": {"X-GitHub-Delivery": delivery, "User-Agent": "GitHub-Hookshot/it"},
        "gitea": {"X-Gitea-Delivery": delivery, "X-GitHub-Delivery": delivery,
                  "X-GitHub-Event": "push"},
        "gitlab": {"X-Gitlab-Event-UUID": delivery, "User-Agent": "GitLab/17.0.0"},
        "bitbucket-cloud": {"X-Request-UUID": delivery, "X-Attempt-Number": "1",
                            "User-Agent": "Bitbucket-Webhooks/2.0"},
        "bitbucket-server": {"X-Request-Id": delivery},
    }[flavour]


@dataclass(frozen=True)
class Hook:
    """One delivery ready to post: endpoint, exact body bytes and headers."""

    forge: str
    body: bytes
    headers: dict[str, str]
    delivery: str

    def post(self, client: FlaskClient) -> TestResponse:
        """POST it to /hooks/<forge>."""
        return client.post(f"/hooks/{self.forge}", data=self.body, headers=self.headers)


def make_hook(file: str, name: str, *, ref: str | None = None, commit: str | None = None,
              secret: str = SECRET, delivery: str | None = None, form: bool = False,
              edit: Callable[[dict[str, Any]], None] | None = None) -> Hook:
    """The fixture `file` rewritten to repository `name` (and `ref` at `commit`), signed."""
    row = fixture(file)
    flavour = row.provider
    payload = json.loads(row.body)
    rename(flavour, payload, name)
    if ref is not None:
        assert commit is not None
        retarget(flavour, payload, ref, commit)
    if edit is not None:
        edit(payload)
    text = json.dumps(payload)
    body = ("payload=" + quote_plus(text)).encode() if form else text.encode()
    content_type = FORM if form else (
        "application/json; charset=utf-8" if flavour == "bitbucket-server"
        else "application/json")
    delivery = delivery or f"it-{uuid.uuid4()}"
    headers = {**row.event_headers, **delivery_headers(flavour, delivery),
               **auth_headers(flavour, body, secret), "Content-Type": content_type}
    return Hook(row.forge, body, headers, delivery)


def rules_text(clone_url: str = "file:///nonexistent/repo.git",
               images: dict[str, str] | None = None,
               names: dict[str, str] | None = None) -> str:
    """A rules file configuring NAMES (or `names`), each under its own forge."""
    images = images or {}
    return "repositories:\n" + "".join(
        repo_yaml(name, provider=PROVIDER[flavour], clone_url=clone_url, rules=RULES,
                  image=images.get(flavour, f"127.0.0.1:5000/it-forges/{flavour}"))
        for flavour, name in {**NAMES, **(names or {})}.items())


# --- end to end on the real stack -------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """The module's source repository: a bare repo with one commit on main and tag TAG."""

    bare: Path
    commit: str
    marker: str
    tag_object: str  # the annotated tag ANNOTATED_TAG, pointing at `commit`


@pytest.fixture(scope="module")
def forge_source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    """One small repository every forge's build uses (its layers are cached after the first)."""
    marker = uuid.uuid4().hex
    bare, commit = make_repo(tmp_path_factory.mktemp("forges-src"), {
        "Dockerfile": (f"FROM {BASE_IMAGE}\nCOPY . /src\n"
                       "RUN echo \"run-step-output $(cat /src/marker.txt)\"\n"),
        "marker.txt": marker,
    })
    git("tag", TAG, commit, cwd=bare)
    git("tag", "-a", ANNOTATED_TAG, "-m", "Release 2.0.0", commit, cwd=bare)
    return Source(bare, commit, marker, git("rev-parse", ANNOTATED_TAG, cwd=bare))


@dataclass(frozen=True)
class Case:
    """One building delivery: a fixture, the ref it pushes, and how it is encoded.

    A push of a commit a rule already built is skipped, so a case that pushes the same ref and
    commit as another one names its own repository.
    """

    file: str
    ref: str
    form: bool = False
    name: str | None = None


BUILD_CASES = [
    pytest.param(Case("github/push-branch.json", "refs/heads/main"), id="github-push"),
    pytest.param(Case("github/push-branch.json", "refs/heads/main", form=True,
                      name="it-forges/gh-form-app"),
                 id="github-push-form"),
    pytest.param(Case("github/push-tag.json", f"refs/tags/{TAG}"), id="github-tag"),
    pytest.param(Case("gitea/push-branch.json", "refs/heads/main"), id="gitea-push"),
    pytest.param(Case("gitlab/push-branch.json", "refs/heads/main"), id="gitlab-push"),
    pytest.param(Case("gitlab/tag-push-create.json", f"refs/tags/{TAG}"), id="gitlab-tag"),
    pytest.param(Case("bitbucket-cloud/push-branch.json", "refs/heads/main"),
                 id="bitbucket-cloud-push"),
    pytest.param(Case("bitbucket-server/refs-changed-branch-update.json", "refs/heads/main"),
                 id="bitbucket-server-refs-changed"),
]


@pytest.mark.integration
@pytest.mark.parametrize("case", BUILD_CASES)
def test_forge_push_becomes_image_in_registry(
    case: Case, live_app: tuple[Flask, RulesWriter], forge_source: Source,
    docker_client: docker.DockerClient,
) -> None:
    app, write_rules = live_app
    flavour = fixture(case.file).provider
    image = unique_image(f"fe-{flavour}")
    name = case.name or NAMES[flavour]
    write_rules(rules_text(f"file://{forge_source.bare}", {flavour: image}, {flavour: name}))
    hook = make_hook(case.file, name, ref=case.ref, commit=forge_source.commit,
                     form=case.form)
    client = app.test_client()

    response = hook.post(client)

    assert response.status_code == 202, response.get_json()
    assert len(response.get_json()["builds"]) == 1, response.get_json()
    (queued,) = response.get_json()["builds"]
    reference = f"{image}:{short_ref(case.ref) if '/tags/' in case.ref else 'latest'}"
    assert queued["status"] == "queued"
    assert (queued["ref"], queued["commit"]) == (case.ref, forge_source.commit)
    assert (queued["repository"], queued["provider"]) == (name, PROVIDER[flavour])
    assert queued["tags"] == [reference]
    assert queued["delivery_id"] == hook.delivery
    build = wait_for_build(client, queued["id"])
    assert build["status"] == "success", build["error"]
    assert build["commit"] == forge_source.commit
    assert build["digest"] == registry_digest(reference)
    assert read_file_from_registry_image(docker_client, reference,
                                         "/src/marker.txt") == forge_source.marker
    deliveries = client.get("/api/deliveries", headers=AUTH).get_json()["deliveries"]
    (logged,) = [d for d in deliveries if d["delivery_id"] == hook.delivery]
    assert (logged["forge"], logged["outcome"], logged["status_code"]) == (
        hook.forge, "queued", 202)
    assert logged["build_ids"] == [queued["id"]] and logged["refs"] == [case.ref]


@pytest.mark.integration
def test_gitlab_annotated_tag_push_builds_the_tagged_commit(
    live_app: tuple[Flask, RulesWriter], forge_source: Source,
    docker_client: docker.DockerClient,
) -> None:
    """GitLab sends the tag object as `after` (commit in `checkout_sha`); the worker peels it."""
    app, write_rules = live_app
    image = unique_image("fe-gitlab-annotated")
    name = "it-group/sub-group/gl-annotated"
    write_rules(rules_text(f"file://{forge_source.bare}", {"gitlab": image}, {"gitlab": name}))
    ref = f"refs/tags/{ANNOTATED_TAG}"

    def checkout_commit(payload: dict[str, Any]) -> None:
        payload["checkout_sha"] = payload["commits"][0]["id"] = forge_source.commit

    hook = make_hook("gitlab/tag-push-create.json", name, ref=ref,
                     commit=forge_source.tag_object, edit=checkout_commit)
    client = app.test_client()

    response = hook.post(client)

    assert response.status_code == 202, response.get_json()
    assert len(response.get_json()["builds"]) == 1, response.get_json()
    (queued,) = response.get_json()["builds"]
    assert queued["ref"] == ref
    build = wait_for_build(client, queued["id"])
    assert build["status"] == "success", build["error"]
    reference = f"{image}:{ANNOTATED_TAG}"
    assert build["digest"] == registry_digest(reference)
    assert read_file_from_registry_image(docker_client, reference,
                                         "/src/marker.txt") == forge_source.marker


# --- cheap checks through the real app, with a recording queue --------------------------------

PUSHES = {
    "github": "github/push-branch.json",
    "gitea": "gitea/push-branch.json",
    "gitlab": "gitlab/push-branch.json",
    "bitbucket-cloud": "bitbucket-cloud/push-branch.json",
    "bitbucket-server": "bitbucket-server/refs-changed-branch-update.json",
}
SOME_COMMIT = "4522cbcefc20728a5b72b3a86af35e608622c514"


def zero_after(payload: dict[str, Any]) -> None:
    """Gitea's deletion: a push whose `after` is 40 zeros (no Gitea deletion fixture exists)."""
    payload.update(after=ZERO_SHA, commits=[], head_commit=None)


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


def push_hook(flavour: str, **kwargs: Any) -> Hook:
    """The flavour's branch push fixture, rewritten to push SOME_COMMIT to main."""
    return make_hook(PUSHES[flavour], NAMES[flavour], ref="refs/heads/main",
                     commit=SOME_COMMIT, **kwargs)


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
        assert logged["reason"] or outcome == "queued"
    assert by_id[hooks[0][0].delivery]["build_ids"] == queue.enqueued[:1]
    assert by_id[hooks[3][0].delivery]["repository"] == "nobody/here"
