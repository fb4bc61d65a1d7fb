"""POST /hooks/github through the real Flask app with a recording queue: GitHub's own cases
(its recorded signature vector, signature header forms, body limits, rules). What every forge
shares is in test_forge_deliveries.py."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from core.signatures import sign_github
from tests.conftest import SECRET, WebhookSender, repo_yaml
from tests.core.fixtures import FIXTURES_DIR, manifest
from tests.fakes import RecordingQueue

pytestmark = pytest.mark.both_databases

PUSH = FIXTURES_DIR / "github/push-branch.json"


def push_payload(**changes: Any) -> dict[str, Any]:
    """The real GitHub push payload with some top-level fields rewritten."""
    payload: dict[str, Any] = json.loads(PUSH.read_bytes())
    payload.update(changes)
    return payload


def hello_world_app(app_factory: Callable[..., Flask], rules: str | None = None,
                    **config: Any) -> Flask:
    return app_factory("repositories:\n" + repo_yaml("Codertocat/Hello-World", rules=rules),
                       **config)


def test_recorded_signature_on_exact_bytes_queues_one_build(
    app_factory: Callable[..., Flask], queue: RecordingQueue
) -> None:
    row = next(f for f in manifest() if f.file == "github/push-branch.json")
    signature = next(s for s in row.entry["signatures"] if s["header"] == "X-Hub-Signature-256")
    rules = f"repositories:\n{repo_yaml('Codertocat/Hello-World')}".replace(
        f"secret: {SECRET}", f"secret: {signature['secret']}")
    client = app_factory(rules).test_client()
    response = client.post("/hooks/github", data=row.body, headers={
        "X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1",
        "X-Hub-Signature-256": signature["value"], "Content-Type": "application/json"})
    assert response.status_code == 202, response.get_json()
    (build,) = response.get_json()["builds"]
    assert build["status"] == "queued"
    assert build["ref"] == row.entry["ref"]
    assert build["commit"] == row.entry["after"]
    assert build["tags"] == ["127.0.0.1:5000/acme/webapp:latest"]
    assert build["repository"] == "Codertocat/Hello-World"
    assert queue.enqueued == [build["id"]]


@pytest.mark.parametrize("signature", [
    pytest.param(None, id="missing"),
    pytest.param("sha1=cf93f9ba3c8d3a789e61f91e1e5c6a360d036e98", id="sha1-downgrade"),
    pytest.param("sha256=é", id="non-ascii"),
])
def test_bad_signature_is_401_and_queues_nothing(
    app_factory: Callable[..., Flask], queue: RecordingQueue, signature: str | None
) -> None:
    client = hello_world_app(app_factory).test_client()
    headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-2",
               "Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    response = client.post("/hooks/github", data=PUSH.read_bytes(), headers=headers)
    assert response.status_code == 401
    assert "signature" in response.get_json()["error"]
    assert queue.enqueued == []


def test_tampered_body_is_401(app_factory: Callable[..., Flask], queue: RecordingQueue) -> None:
    client = hello_world_app(app_factory).test_client()
    body = PUSH.read_bytes()
    sender = WebhookSender(client)
    signature = sign_github(body, SECRET)
    tampered = body.replace(b"Update README", b"Update READMF")
    assert sender.github(tampered, signature=signature).status_code == 401
    assert queue.enqueued == []


def test_push_matching_no_rule_says_why(app_factory: Callable[..., Flask],
                                        queue: RecordingQueue) -> None:
    client = hello_world_app(app_factory).test_client()
    response = WebhookSender(client).github(push_payload(ref="refs/heads/feature-x"))
    assert response.status_code == 202
    data = response.get_json()
    assert data["builds"] == []
    assert "feature-x" in data["ignored"] and "master" in data["ignored"]
    assert queue.enqueued == []


def test_two_matching_rules_make_two_builds(app_factory: Callable[..., Flask],
                                            queue: RecordingQueue) -> None:
    rules = ("      - source_type: branch\n        source: master\n        tag: latest\n"
             "      - source_type: branch\n        source: /^mas/\n"
             "        tag: \"{sourceref}-{short_sha}\"\n")
    client = hello_world_app(app_factory, rules).test_client()
    response = WebhookSender(client).github(push_payload())
    assert response.status_code == 202
    tags = [b["tags"] for b in response.get_json()["builds"]]
    assert tags == [["127.0.0.1:5000/acme/webapp:latest"],
                    ["127.0.0.1:5000/acme/webapp:master-199eddf"]]
    assert len(queue.enqueued) == 2


def test_redis_down_still_records_the_build(app_factory: Callable[..., Flask]) -> None:
    app = hello_world_app(app_factory)
    app.extensions["build_queue"] = RecordingQueue(fail=True)
    response = WebhookSender(app.test_client()).github(push_payload())
    assert response.status_code == 202
    (build,) = response.get_json()["builds"]
    assert build["status"] == "queued"


def test_oversized_body_is_413(app_factory: Callable[..., Flask]) -> None:
    app = hello_world_app(app_factory, MAX_CONTENT_LENGTH=1000)
    response = WebhookSender(app.test_client()).github(PUSH.read_bytes())
    assert response.status_code == 413
    assert "limit" in response.get_json()["error"]


def test_invalid_json_is_400(client: Any) -> None:
    response = WebhookSender(client).github(b"{not json")
    assert response.status_code == 400
    assert "JSON" in response.get_json()["error"]


@pytest.mark.parametrize(("limit", "status"), [
    pytest.param(1000, 413, id="over-the-limit"),
    pytest.param(25 * 1024 * 1024, 202, id="under-the-limit"),
])
def test_chunked_body_without_length_is_limited_not_truncated(
    app_factory: Callable[..., Flask], queue: RecordingQueue, limit: int, status: int
) -> None:
    app = hello_world_app(app_factory, MAX_CONTENT_LENGTH=limit)
    body = PUSH.read_bytes()
    # as gunicorn serves a chunked request: no Content-Length, the input stream terminated
    response = app.test_client().post("/hooks/github", input_stream=io.BytesIO(body),
                                      environ_base={"wsgi.input_terminated": True}, headers={
        "Transfer-Encoding": "chunked", "X-GitHub-Event": "push", "X-GitHub-Delivery": "big",
        "Content-Type": "application/json", "X-Hub-Signature-256": sign_github(body, SECRET)})
    assert response.status_code == status, response.get_json()
    assert len(queue.enqueued) == (1 if status == 202 else 0)


def test_a_huge_unsigned_repository_name_grows_nothing_before_authentication(
    app_factory: Callable[..., Flask], tmp_path: Path,
) -> None:
    """An unsigned POST naming a 2 MB repository: refused, and the delivery log stays small."""
    app = hello_world_app(app_factory, DATABASE_URL=f"sqlite:///{tmp_path}/amplify.db")
    client = app.test_client()

    def size() -> int:
        return sum(f.stat().st_size for f in tmp_path.glob("amplify.db*"))

    before = size()
    for number in range(5):
        body = json.dumps(push_payload(repository={"full_name": f"x/{number}" + "y" * 2_000_000})
                          ).encode()
        response = client.post("/hooks/github", data=body, headers={
            "X-GitHub-Event": "push", "X-GitHub-Delivery": "z" * 10_000 + str(number),
            "Content-Type": "application/json"})
        assert response.status_code == 400
        assert "repository.full_name is 2000003 bytes long; at most 255" in response.get_json()[
            "error"]
    grown = size() - before
    assert grown < 100_000, f"the database grew by {grown} bytes"
    page = client.get("/").get_data(as_text=True)
    assert len(page) < 100_000
    logged = client.get("/api/deliveries").get_json()["deliveries"]
    assert len(logged) == 5 and all(d["repository"] is None for d in logged)


def test_refused_deliveries_are_recorded_within_a_budget(app_factory: Callable[..., Flask]
                                                        ) -> None:
    app = hello_world_app(app_factory, REFUSALS_PER_MINUTE=10)
    client = app.test_client()
    for number in range(30):
        response = client.post("/hooks/github", data=PUSH.read_bytes(), headers={
            "X-GitHub-Event": "push", "X-GitHub-Delivery": f"refused-{number}",
            "Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64})
        assert response.status_code == 401, "every refusal is still answered"
    assert len(client.get("/api/deliveries").get_json()["deliveries"]) == 10
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "autobuild_webhook_refusals_unrecorded_total 20" in metrics
