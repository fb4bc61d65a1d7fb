"""Queues by capability on the real stack: a build for `queue: arm64` waits saying nobody
listens there, until `python -m workers --queue builds --queue arm64` starts and builds it."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.conftest import (
    AUTH,
    RulesWriter,
    main_rule,
    registry_digest,
    rules_for,
    start_worker,
    unique_image,
    wait_for_build,
)
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
NOBODY = "no worker is listening on queue arm64"


@pytest.fixture
def arm_worker(worker_env: dict[str, str], tmp_path: Path
               ) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Starts `python -m workers --queue builds --queue arm64` on the session's stack."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        started.append(start_worker(worker_env, tmp_path / "arm-worker.log", "builds", "arm64"))
        return started[-1]

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def queue_named(client: FlaskClient, name: str) -> dict[str, Any]:
    response = client.get("/api/queues")
    assert response.status_code == 200, response.get_json()
    return next(q for q in response.get_json()["queues"] if q["name"] == name)


def test_a_build_waits_saying_nobody_listens_on_its_queue_until_a_worker_serves_it(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    arm_worker: Callable[[], subprocess.Popen[bytes]],
) -> None:
    app, write_rules = live_app
    bare, commit = source_repo()
    image = unique_image("arm")
    write_rules(rules_for("it/arm", f"file://{bare}", image, main_rule(queue="arm64")))
    client = app.test_client()
    (queued,) = client.post("/api/builds", json={"repository": "it/arm", "ref": "main"},
                            headers=AUTH).get_json()["builds"]
    assert (queued["queue"], queued["waiting_reason"]) == ("arm64", NOBODY)

    assert queue_named(client, "arm64") == {"name": "arm64", "depth": 1, "workers": []}
    wait_until(lambda: queue_named(client, "builds")["workers"], 30,
               "the session's worker listed on builds")
    page = client.get(f"/builds/{queued['id']}").get_data(as_text=True)
    assert f'id="waiting-reason">Waiting: {NOBODY}<' in page
    assert f"waits: {NOBODY}" in client.get("/").get_data(as_text=True)
    assert client.get(f"/api/builds/{queued['id']}").get_json()["status"] == "queued"

    process = arm_worker()
    build = wait_for_build(client, queued["id"])

    assert build["status"] == "success", build["error"]
    assert build["waiting_reason"] is None and build["commit"] == commit
    assert build["digest"] == registry_digest(f"{image}:latest")
    (listener,) = wait_until(lambda: queue_named(client, "arm64")["workers"], 10,
                             "the arm64 worker listed")
    assert (listener["pid"], sorted(listener["queues"])) == (process.pid, ["arm64", "builds"])
    retried = client.post(f"/api/builds/{build['id']}/retry", headers=AUTH).get_json()["builds"]
    assert retried[0]["queue"] == "arm64"  # Retry goes back to the rule's queue
    assert wait_for_build(client, retried[0]["id"])["status"] == "success"

    process.send_signal(signal.SIGTERM)  # a worker that stops leaves the queue's listeners
    process.wait(timeout=30)
    wait_until(lambda: not queue_named(client, "arm64")["workers"], 10,
               "the stopped worker gone from the arm64 queue")
    (again,) = client.post("/api/builds", json={"repository": "it/arm", "ref": "main"},
                           headers=AUTH).get_json()["builds"]
    assert again["waiting_reason"] == NOBODY
