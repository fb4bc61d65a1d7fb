"""POST /hooks/registry: the registry's push notifications rebuild the rules whose latest image
used the pushed base, once per change, refusing what is not the registry's, and saying why."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from core.rebuilds import RebuildCause, RuleRef
from core.status import BuildStatus
from records.builds import BuildStore
from records.schema import builds
from tests.conftest import WebhookSender, make_repo, repo_yaml
from tests.factories import stored_build
from tests.fakes import RecordingQueue
from tests.service.test_webhooks import push_payload

TOKEN = "registry-token-0123456789"
BASE = "127.0.0.1:5000/base/busybox:latest"
OLD = "sha256:" + "1" * 64
NEW = "sha256:" + "2" * 64
TYPE = "application/vnd.docker.distribution.events.v1+json"


def envelope(*events: dict[str, Any]) -> bytes:
    """A registry notification envelope holding these events."""
    return json.dumps({"events": list(events)}).encode()


def push_event(reference: str = BASE, digest: str = NEW, *, event_id: str = "ev-1",
               **changes: Any) -> dict[str, Any]:
    """A tag push event as docker-registry 2.8 sends it."""
    host, _, rest = reference.partition("/")
    repository, _, tag = rest.rpartition(":")
    event = {
        "id": event_id, "timestamp": "2027-01-04T04:00:00Z", "action": "push",
        "target": {"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                   "size": 527, "digest": digest, "length": 527, "repository": repository,
                   "url": f"http://{host}/v2/{repository}/manifests/{digest}", "tag": tag},
        "request": {"id": "r1", "addr": "127.0.0.1:4000", "host": host, "method": "PUT",
                    "useragent": "docker/20.10"},
        "actor": {}, "source": {"addr": "vm:5000"},
    }
    event.update(changes)
    return event


@pytest.fixture
def source(tmp_path: Path) -> tuple[Path, str]:
    """A bare repository whose master the rebuilds resolve with git ls-remote."""
    return make_repo(tmp_path / "src", {"Dockerfile": f"FROM {BASE}\n"}, branch="master")


@pytest.fixture
def hook_app(app_factory: Callable[..., Flask], source: tuple[Path, str]) -> Flask:
    """acme/webapp (master → latest, FROM the base) and acme/other, with the registry token."""
    bare, _ = source
    rules = ("repositories:\n" + repo_yaml(clone_url=f"file://{bare}")
             + repo_yaml("acme/other", clone_url=f"file://{bare}",
                         image="127.0.0.1:5000/acme/other"))
    return app_factory(rules, REGISTRY_TOKEN=TOKEN)


def post(client: FlaskClient, body: bytes, *, token: str | None = TOKEN,
         content_type: str = TYPE, **headers: str) -> Any:
    """POST a body to /hooks/registry as the registry would (its endpoint's headers)."""
    sent = {"Content-Type": content_type, **headers}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    return client.post("/hooks/registry", data=body, headers=sent)


def built_from(app: Flask, digest: str = OLD, **plan: Any) -> str:
    """A successful build of acme/webapp's rule whose image used BASE at `digest`."""
    store: BuildStore = app.extensions["build_store"]
    build = stored_build(store, BuildStatus.SUCCESS, own_ref=False, **plan)
    store.record_bases(build.id, [(BASE, digest)])
    return build.id


def queued_builds(app: Flask) -> list[Any]:
    return [b for b in app.extensions["build_store"].list_builds()
            if b.status is BuildStatus.QUEUED]


def test_a_pushed_base_rebuilds_the_rule_at_its_head_pulling_fresh_bases(
        hook_app: Flask, queue: RecordingQueue, source: tuple[Path, str]) -> None:
    _, head = source
    previous = built_from(hook_app, commit="c" * 40)

    answer = post(hook_app.test_client(), envelope(push_event()))

    assert answer.status_code == 202, answer.get_json()
    (event,) = answer.get_json()["events"]
    (rebuild,) = queued_builds(hook_app)
    assert event["outcome"] == "queued" and event["build_ids"] == [rebuild.id]
    assert queue.enqueued == [rebuild.id]
    assert (rebuild.trigger, rebuild.commit, rebuild.ref) == ("base_image", head,
                                                             "refs/heads/master")
    assert rebuild.plan.pull is True
    reason = (f"base image {BASE} changed from {OLD} to {NEW} (told by the registry)")
    assert rebuild.to_dict()["reason"] == reason
    assert rebuild.cause is not None and rebuild.cause.origin == f"base:{BASE}@{NEW}"
    assert event["decisions"] == [{
        "repository": "acme/webapp", "provider": "github", "rule_index": 0,
        "ref": "refs/heads/master", "verdict": "queued", "reason": reason,
        "build_id": rebuild.id}]
    assert previous != rebuild.id


def test_the_same_change_twice_rebuilds_once(hook_app: Flask) -> None:
    built_from(hook_app)
    client = hook_app.test_client()
    first = post(client, envelope(push_event(event_id="ev-1"))).get_json()["events"][0]

    again = post(client, envelope(push_event(event_id="ev-1"))).get_json()["events"][0]
    other_id = post(client, envelope(push_event(event_id="ev-2"))).get_json()["events"][0]

    assert again == {"registry_event": "ev-1", "reference": BASE, "digest": NEW,
                     "duplicate": True, "build_ids": []}
    assert other_id["outcome"] == "ignored"
    (decision,) = other_id["decisions"]
    assert decision["verdict"] == "already_rebuilt"
    assert decision["reason"] == f"already rebuilt for this change by build {first['build_ids'][0]}"
    assert decision["build_id"] == first["build_ids"][0]
    assert len(queued_builds(hook_app)) == 1


def test_a_push_of_the_digest_the_image_was_built_from_rebuilds_nothing(hook_app: Flask
                                                                          ) -> None:
    build_id = built_from(hook_app, digest=NEW)

    (event,) = post(hook_app.test_client(), envelope(push_event())).get_json()["events"]

    assert event["outcome"] == "ignored" and queued_builds(hook_app) == []
    assert event["decisions"][0]["verdict"] == "same_digest"
    assert event["decisions"][0]["reason"] == f"its latest build {build_id} already used {NEW}"


def test_a_reference_that_is_nobodys_base_is_recorded_with_why(hook_app: Flask) -> None:
    built_from(hook_app)
    other = "127.0.0.1:5000/unrelated/image:latest"

    answer = post(hook_app.test_client(), envelope(push_event(other)))

    assert answer.status_code == 202
    (event,) = answer.get_json()["events"]
    assert (event["outcome"], event["build_ids"], event["decisions"]) == ("ignored", [], [])
    assert event["reason"] == f"no rule's latest image uses {other} as a base"
    stored = hook_app.extensions["rebuild_log"].recent_events(limit=5)
    assert [(e.reference, e.reason) for e in stored] == [(other, event["reason"])]
    assert queued_builds(hook_app) == []


def test_pulls_blob_pushes_and_digest_pushes_are_skipped(hook_app: Flask) -> None:
    built_from(hook_app)
    pull = push_event(action="pull")
    blob = push_event(event_id="ev-b")
    blob["target"] = {**blob["target"], "mediaType": "application/octet-stream"}
    by_digest = push_event(event_id="ev-d")
    del by_digest["target"]["tag"]

    answer = post(hook_app.test_client(), envelope(pull, blob, by_digest))

    assert answer.status_code == 202
    assert answer.get_json() == {"events": [], "skipped": 3}
    assert queued_builds(hook_app) == []


def test_a_rule_with_on_base_change_false_is_not_rebuilt(
        app_factory: Callable[..., Flask], source: tuple[Path, str]) -> None:
    bare, _ = source
    rules = repo_yaml(clone_url=f"file://{bare}", rules=(
        "      - source_type: branch\n        source: master\n        tag: latest\n"
        "        rebuild: {on_base_change: false}\n"))
    app = app_factory("repositories:\n" + rules, REGISTRY_TOKEN=TOKEN)
    built_from(app)

    (event,) = post(app.test_client(), envelope(push_event())).get_json()["events"]

    assert event["decisions"][0]["verdict"] == "off"
    assert queued_builds(app) == []


def test_a_push_by_a_rebuild_in_the_cascade_is_a_cycle_when_it_comes_back(
        hook_app: Flask) -> None:
    """acme/webapp's image is FROM acme/other's, acme/other's rebuild (caused by webapp's
    push) pushes: rebuilding webapp again would loop."""
    store: BuildStore = hook_app.extensions["build_store"]
    other_image = "127.0.0.1:5000/acme/other:latest"
    app_build = stored_build(store, BuildStatus.SUCCESS, own_ref=False)
    store.record_bases(app_build.id, [(other_image, OLD)])
    webapp = RuleRef("acme/webapp", "github", 0, "refs/heads/master")
    other = RuleRef("acme/other", "github", 0, "refs/heads/master")
    cause = RebuildCause(kind="base_image", origin="base:x@y", chain=(webapp, other),
                         base="127.0.0.1:5000/acme/webapp:latest", new_digest=NEW)
    pushing = stored_build(store, BuildStatus.PUSHING, own_ref=False, repository="acme/other")
    with store.engine.begin() as conn:  # as records/rebuild_log.py stores a rebuild's cause
        conn.execute(update(builds).where(builds.c.id == pushing.id).values(
            cause=json.dumps(cause.to_dict())))

    (event,) = post(hook_app.test_client(),
                    envelope(push_event(other_image))).get_json()["events"]

    assert event["pusher_build_id"] == pushing.id and event["origin"] == "base:x@y"
    (decision,) = event["decisions"]
    assert decision["verdict"] == "cycle"
    assert decision["reason"] == (
        "cycle: acme/webapp rule 1 (master) → acme/other rule 1 (master) → acme/webapp rule 1 "
        "(master); not rebuilding acme/webapp rule 1 (master) again for the same change")
    assert queued_builds(hook_app) == []


# refusals ----------------------------------------------------------------------------------


def test_without_a_registry_token_the_endpoint_is_off(app: Flask) -> None:
    answer = post(app.test_client(), envelope(push_event()))
    assert answer.status_code == 404
    assert "AUTOBUILD_REGISTRY_TOKEN" in answer.get_json()["error"]


@pytest.mark.parametrize("token", [None, "", "wrong-token", TOKEN + "x", TOKEN[:-1],
                                   "é" + TOKEN[1:]],
                         ids=["none", "empty", "wrong", "longer", "shorter", "non-ascii"])
def test_a_missing_or_wrong_token_is_refused_with_nothing_recorded(hook_app: Flask,
                                                                     token: str | None) -> None:
    built_from(hook_app)
    answer = post(hook_app.test_client(), envelope(push_event()), token=token)
    assert answer.status_code == 401
    assert "bearer token" in answer.get_json()["error"]
    assert hook_app.extensions["rebuild_log"].recent_events(limit=5) == []
    assert queued_builds(hook_app) == []


def test_basic_auth_with_the_token_is_not_a_bearer(hook_app: Flask) -> None:
    answer = post(hook_app.test_client(), envelope(push_event()), token=None,
                  Authorization=f"Basic {TOKEN}")
    assert answer.status_code == 401


@pytest.mark.parametrize(("body", "problem"), [
    (b"{not json", "the body is not JSON"),
    (b"\xff\xfe", "the body is not JSON"),
    (b"[]", 'must be a JSON object with an "events" list'),
    (b'{"events": {}}', 'must be a JSON object with an "events" list'),
    (envelope("not an event"), "events[0] must be an object"),  # type: ignore[arg-type]
    (envelope(push_event(event_id="")), "events[0].id must be a non-empty string"),
    (envelope(push_event(event_id="x" * 129)), "events[0].id must be a non-empty string"),
    (envelope(push_event(event_id="a b")), "events[0].id must be letters"),
    (envelope(push_event(digest="sha256:abc")), "events[0].target.digest must be"),
    (envelope(push_event("127.0.0.1:5000/UPPER/case:latest")),
     "events[0].target.repository is not a valid repository name"),
    (envelope(push_event("127.0.0.1:5000/ok/image:-bad")), "events[0].target.tag is not"),
    (envelope(push_event(request={"host": "evil host"})), "events[0].request.host must"),
    (envelope(push_event(target=[])), "events[0].target must be an object"),
    (json.dumps({"events": [push_event(event_id=f"e{i}") for i in range(201)]}).encode(),
     "at most 200"),
], ids=["not-json", "not-utf8", "array", "events-not-list", "event-not-object", "empty-id",
        "long-id", "id-with-space", "short-digest", "uppercase-repository", "bad-tag",
        "bad-host", "target-not-object", "too-many-events"])
def test_malformed_envelopes_are_refused_naming_the_problem(hook_app: Flask, body: bytes,
                                                              problem: str) -> None:
    built_from(hook_app)
    answer = post(hook_app.test_client(), body)
    assert answer.status_code == 400, answer.get_json()
    assert problem in answer.get_json()["error"]
    assert queued_builds(hook_app) == []
    assert hook_app.extensions["rebuild_log"].recent_events(limit=5) == []


def test_other_content_types_are_refused(hook_app: Flask) -> None:
    answer = post(hook_app.test_client(), envelope(push_event()), content_type="text/plain")
    assert answer.status_code == 415
    assert answer.get_json()["error"] == f"content type must be {TYPE}, not text/plain"


def test_oversized_bodies_are_refused_before_reading(hook_app: Flask) -> None:
    built_from(hook_app)
    client = hook_app.test_client()
    big = envelope(push_event()) + b" " * (1024 * 1024)

    declared = post(client, big)
    # as gunicorn serves a chunked request: no Content-Length, the input stream terminated
    chunked = client.post("/hooks/registry", input_stream=io.BytesIO(big),
                          environ_base={"wsgi.input_terminated": True}, headers={
        "Content-Type": TYPE, "Authorization": f"Bearer {TOKEN}",
        "Transfer-Encoding": "chunked"})

    assert (declared.status_code, chunked.status_code) == (413, 413)
    assert queued_builds(hook_app) == []


def test_a_push_of_the_commit_a_rebuild_is_building_coalesces_with_it(
        hook_app: Flask, source: tuple[Path, str]) -> None:
    _, head = source
    built_from(hook_app, commit="c" * 40)
    client = hook_app.test_client()
    post(client, envelope(push_event()))
    (rebuild,) = queued_builds(hook_app)
    payload = push_payload(ref="refs/heads/master", after=head)
    payload["repository"]["full_name"] = "acme/webapp"
    payload["head_commit"]["id"] = head

    answer = WebhookSender(client).github(payload)

    assert answer.status_code == 202, answer.get_json()
    assert answer.get_json()["builds"] == []
    assert rebuild.id in answer.get_json()["ignored"]
    assert queued_builds(hook_app) == [rebuild]
