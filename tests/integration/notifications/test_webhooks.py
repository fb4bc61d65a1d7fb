"""Outgoing webhooks end to end on the real stack: one real build, its notifier process posting
a signed Docker Hub payload and a Slack message, retrying a 500, a dropped connection and a 429
with Retry-After, and receivers that keep failing while the build stays `success`."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.integration.conftest import RulesWriter, unique_image
from tests.integration.notifications.conftest import (
    HOOK_SECRET,
    TOKEN,
    push_and_build,
    repository,
    requests_to,
)
from tests.integration.notifications.fake_forge import DROP, FakeForge
from tests.waiting import wait_until

pytestmark = pytest.mark.both_databases

NAME = "it-notify/hooks-app"
FAILS_ONCE = {"/hooks/retry-500": (500, {}), "/hooks/retry-drop": DROP,
              "/hooks/retry-429": (429, {"Retry-After": "1"})}


def notify_yaml(forge: FakeForge) -> str:
    """Every kind of receiver: signed Docker Hub, Slack by ${VAR}, flaky and failing ones."""
    entries = [f"      - url: {forge.url('/hooks/deploy')}\n        secret: ${{IT_HOOK_SECRET}}\n",
               "      - url: ${IT_CHAT_URL}\n        format: slack\n"]
    entries += [f"      - url: {forge.url(path)}\n" for path in
                (*FAILS_ONCE, "/hooks/always-500", "/hooks/reject-400")]
    return "    notify:\n" + "".join(entries)


def by_target(app: Flask, build_id: str) -> dict[str, dict[str, Any]]:
    listed = app.test_client().get(f"/api/builds/{build_id}/notifications").get_json()
    return {n["target"].rsplit("/", 1)[-1]: n for n in listed["notifications"]}


@pytest.mark.integration
def test_webhooks_are_signed_retried_and_never_change_the_build(
    live_app: tuple[Flask, RulesWriter], notifier: subprocess.Popen[bytes], forge: FakeForge,
    source: tuple[Path, str],
) -> None:
    app, write_rules = live_app
    bare, commit = source
    image = unique_image("nt-hooks")
    for path, failure in FAILS_ONCE.items():
        forge.script[path] = [failure]
    forge.script["/hooks/always-500"] = [(500, {})] * 100
    forge.script["/hooks/reject-400"] = [(400, {})]
    write_rules("repositories:\n" + repository("github", f"file://{bare}", image, forge,
                                               notify=notify_yaml(forge), name=NAME,
                                               status_prefix=""))

    build = push_and_build(app, "github", commit, name=NAME)

    assert build["status"] == "success", build["error"]
    (delivered,) = requests_to(forge, "/hooks/deploy", 1)
    expected = "sha256=" + hmac.new(HOOK_SECRET.encode(), delivered.body,
                                    hashlib.sha256).hexdigest()
    assert hmac.compare_digest(delivered.header("X-Autobuild-Signature-256") or "", expected)
    payload = delivered.json()
    assert payload["push_data"]["tag"] == "latest"
    assert payload["repository"]["repo_name"] == image.split("/", 1)[1]
    assert payload["autobuild"]["build_id"] == build["id"]
    assert payload["autobuild"]["tags"] == [{"reference": f"{image}:latest", "tag": "latest",
                                             "digest": build["digest"]}]
    assert delivered.header("X-Autobuild-Event") == "success"
    (chat,) = requests_to(forge, "/chat/T000/B000/it-chat-key", 1)
    assert chat.json()["text"].startswith(f"{NAME} main@{commit[:7]}: success (pushed latest)")

    for path in FAILS_ONCE:
        first, second = requests_to(forge, path, 2)
        assert first.body == second.body  # the same delivery, tried again
    first_429, second_429 = forge.under("/hooks/retry-429")
    assert second_429.at - first_429.at >= 1.0  # Retry-After: 1 was honoured

    def settled() -> dict[str, dict[str, Any]] | None:
        found = by_target(app, build["id"])
        done = all(found[p.rsplit("/", 1)[-1]]["state"] == "sent" for p in FAILS_ONCE)
        done &= all(n["state"] != "sending" for n in found.values())  # answers recorded
        waiting = found["always-500"]["state"] == "pending"  # between two of its attempts
        return found if done and waiting and found["always-500"]["attempts"] >= 2 else None

    found = wait_until(settled, 60, "the retries settling",
                       describe=lambda: str(by_target(app, build["id"])))
    assert {p: found[p.rsplit("/", 1)[-1]]["attempts"] for p in FAILS_ONCE} == dict.fromkeys(
        FAILS_ONCE, 2)
    assert (found["always-500"]["state"], found["always-500"]["last_status"]) == ("pending", 500)
    assert (found["reject-400"]["state"], found["reject-400"]["attempts"],
            found["reject-400"]["last_status"]) == ("failed", 1, 400)
    assert found["deploy"]["state"] == "sent" and found["deploy"]["id"] == delivered.header(
        "X-Autobuild-Delivery")
    assert "${IT_CHAT_URL}" in {n["target"] for n in found.values()}
    answer = app.test_client().get(f"/api/builds/{build['id']}")
    assert answer.get_json()["status"] == "success"
    listed = str(by_target(app, build["id"]))
    assert TOKEN not in listed and HOOK_SECRET not in listed and "it-chat-key" not in listed
