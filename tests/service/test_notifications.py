"""Notifications seen from the web process: enqueued after the transition commits, listed on
the build page and in the API (as documented), and `autobuild notify test`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from core.notify.retry import Verdict
from notify.delivery import Notifier
from records.outbox import NotificationRecord
from service import cli
from tests.conftest import API_TOKEN, SECRET, WebhookSender, repo_yaml
from tests.fakes import RecordingHttpClient, RecordingNotificationQueue

TOKEN = "status-token-abcdef123"
HOOK_SECRET = "hook-secret-abcdef123"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
PUSH = {"ref": "refs/heads/master", "before": "0" * 40, "after": "b" * 40,
        "repository": {"full_name": "acme/webapp"},
        "head_commit": {"id": "b" * 40, "message": "Add things"}}


def targets_yaml(api_url: str, hook_url: str) -> str:
    """The acme/webapp repository with a GitHub status target and a signed webhook."""
    return "repositories:\n" + repo_yaml().replace("    rules:\n", (
        f"    status:\n      token: ${{STATUS_TOKEN}}\n      api_url: {api_url}\n"
        f"    notify:\n      - url: {hook_url}\n        secret: ${{HOOK_SECRET}}\n"
        "        events: [success, cancelled]\n    rules:\n"))


@pytest.fixture
def notifications_app(app_factory: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
                      ) -> tuple[Flask, RecordingNotificationQueue]:
    monkeypatch.setenv("STATUS_TOKEN", TOKEN)
    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)
    queue = RecordingNotificationQueue()
    app = app_factory(targets_yaml("http://127.0.0.1:9/api/v3", "http://127.0.0.1:9/hook"),
                      NOTIFICATION_QUEUE=queue)
    return app, queue


def deliver(app: Flask, build_id: str, client: RecordingHttpClient) -> list[NotificationRecord]:
    outbox = app.extensions["outbox"]
    return Notifier(outbox, client, {"STATUS_TOKEN": TOKEN, "HOOK_SECRET": HOOK_SECRET},
                    public_url="https://ci.example.com").deliver(build_id)


def test_a_push_enqueues_the_queued_status_after_commit_and_a_cancel_its_own(
    notifications_app: tuple[Flask, RecordingNotificationQueue],
) -> None:
    app, queue = notifications_app
    client = app.test_client()

    (build,) = WebhookSender(client).github(PUSH).get_json()["builds"]
    assert queue.enqueued == [(build["id"], 0.0)]
    assert client.post(f"/api/builds/{build['id']}/cancel", headers=AUTH).status_code == 202

    assert queue.enqueued == [(build["id"], 0.0), (build["id"], 0.0)]
    http = RecordingHttpClient()
    deliver(app, build["id"], http)
    assert [(url, json.loads(body)["state"] if "statuses" in url else "hook")
            for url, _, body in http.posts] == [
        ("http://127.0.0.1:9/api/v3/repos/acme/webapp/statuses/" + "b" * 40, "pending"),
        ("http://127.0.0.1:9/hook", "hook"),
        ("http://127.0.0.1:9/api/v3/repos/acme/webapp/statuses/" + "b" * 40, "error")]


def test_the_api_and_the_page_list_each_notification_without_secrets(
    notifications_app: tuple[Flask, RecordingNotificationQueue],
) -> None:
    app, _ = notifications_app
    client = app.test_client()
    (build,) = WebhookSender(client).github(PUSH).get_json()["builds"]
    client.post(f"/api/builds/{build['id']}/cancel", headers=AUTH)
    from notify.http import HttpAnswer
    deliver(app, build["id"], RecordingHttpClient(
        HttpAnswer(201, "Created", excerpt='{"state": "pending"}'),
        HttpAnswer(500, "Internal Server Error", excerpt="boom")))

    answer = client.get(f"/api/builds/{build['id']}/notifications")
    page = client.get(f"/builds/{build['id']}").get_data(as_text=True)

    assert answer.status_code == 200
    listed = answer.get_json()["notifications"]
    assert [(n["event"], n["kind"], n["state"], n["attempts"], n["last_status"])
            for n in listed] == [("queued", "commit_status", "sent", 1, 201),
                                 ("cancelled", "webhook", "pending", 1, 500),
                                 ("cancelled", "commit_status", "sent", 1, 201)]
    assert listed[1]["target"] == "http://127.0.0.1:9/hook"
    assert listed[1]["last_answer"].startswith("HTTP 500 Internal Server Error: boom (HTTP 500;")
    assert listed[1]["next_attempt_at"] is not None and listed[0]["next_attempt_at"] is None
    assert 'id="notifications"' in page and "HTTP 500 Internal Server Error: boom" in page
    for text in (json.dumps(listed), page):
        assert TOKEN not in text and HOOK_SECRET not in text
    api = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    api["/api/builds/{build_id}/notifications"]["GET"].validate_response(answer)
    assert client.get("/api/builds/nope/notifications").status_code == 404
    assert Verdict.SENT.value == "sent"


def test_without_a_notification_queue_nothing_is_handed_over(app: Flask,
                                                             sender: WebhookSender) -> None:
    (build,) = sender.github(PUSH).get_json()["builds"]

    assert app.test_client().get(f"/api/builds/{build['id']}/notifications").get_json() == {
        "notifications": []}


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch, rules: Path) -> int:
    monkeypatch.setenv("AUTOBUILD_RULES", str(rules))
    monkeypatch.setenv("STATUS_TOKEN", TOKEN)
    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)
    monkeypatch.setenv("AUTOBUILD_PUBLIC_URL", "https://ci.example.com")
    return cli.main(args)


def test_notify_test_sends_to_every_target_and_prints_each_answer(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(targets_yaml(httpserver.url_for("/api/v3"), httpserver.url_for("/hook")))
    seen: list[tuple[str, dict[str, Any], dict[str, str]]] = []

    def receiver(request: Request) -> Response:
        seen.append((request.path, json.loads(request.get_data()), dict(request.headers)))
        return Response('{"id": 1}', status=201 if "statuses" in request.path else 200)

    httpserver.expect_request("/api/v3/repos/acme/webapp/statuses/" + "c" * 40
                              ).respond_with_handler(receiver)
    httpserver.expect_request("/hook").respond_with_handler(receiver)

    code = run_cli(["notify", "test", "acme/webapp", "--commit", "c" * 40], monkeypatch, rules)

    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines() == [
        f"commit_status {httpserver.url_for('/api/v3')}/repos/acme/webapp/statuses/{'c' * 40}: "
        'HTTP 201 CREATED: {"id": 1}',
        f"webhook {httpserver.url_for('/hook')}: HTTP 200 OK: {{\"id\": 1}}"]
    (status_path, status_body, status_headers), (_, hook_body, hook_headers) = seen
    assert status_body == {"state": "success", "context": "autobuild/test",
                           "description": "test notification from `autobuild notify test`",
                           "target_url": "https://ci.example.com/builds/test"}
    assert status_headers["Authorization"] == f"Bearer {TOKEN}"
    assert hook_headers["X-Autobuild-Event"] == "test"
    assert hook_body["autobuild"]["event"] == "test"
    assert hook_headers["X-Autobuild-Signature-256"].startswith("sha256=")
    assert TOKEN not in out and SECRET not in out


def test_notify_test_without_targets_or_repository_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("repositories:\n" + repo_yaml())

    assert run_cli(["notify", "test", "acme/webapp"], monkeypatch, rules) == 1
    assert run_cli(["notify", "test", "nobody/here"], monkeypatch, rules) == 1

    captured = capsys.readouterr()
    assert "acme/webapp: no status: or notify: targets are configured" in captured.out
    assert "repository 'nobody/here' is not configured" in captured.err
