"""Redis down while a build ends: the status change is in the database, so the notifier sends
it once Redis is back (a private redis-server, worker and notifier, so nothing else stops)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from service import create_app
from tests.conftest import API_TOKEN, make_repo
from tests.integration.conftest import BASE_IMAGE, free_port, start_worker, unique_image
from tests.integration.notifications.conftest import (
    notifier_env,
    push,
    repository,
    requests_to,
    start_notifier,
)
from tests.integration.notifications.fake_forge import FakeForge
from tests.waiting import wait_until

pytestmark = pytest.mark.both_databases

PREFIX = "/redis-down/api/v3"
FINAL_STATES = {"success": "success", "failed": "failure", "timed_out": "failure"}


class RedisServer:
    """One redis-server on a fixed port that a test can stop and start again (empty)."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, 20, "redis-server answering")

    def answers(self) -> bool:
        try:
            return bool(Redis.from_url(self.url, socket_timeout=1).ping())
        except Exception:  # noqa: BLE001 - not up yet
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.mark.integration
def test_a_build_ending_while_redis_is_down_is_notified_once_it_is_back(
    redis_server: RedisServer, processes: list[subprocess.Popen[bytes]],
    worker_env: dict[str, str], forge: FakeForge, tmp_path: Path,
) -> None:
    # long enough that the queued and started statuses are out before it ends, even under load
    bare, commit = make_repo(tmp_path / "slow", {
        "Dockerfile": f"FROM {BASE_IMAGE}\nRUN echo {tmp_path.name} && sleep 12\n"})
    rules = tmp_path / "rules.yaml"
    rules.write_text("repositories:\n" + repository(
        "github", f"file://{bare}", unique_image("nt-redis"), forge,
        name="it-notify/redis-down", status_prefix=PREFIX))
    env = dict(worker_env, REDIS_URL=redis_server.url, AUTOBUILD_RULES=str(rules))
    processes.append(start_worker(env, tmp_path / "worker.log"))
    processes.append(start_notifier(notifier_env(env, forge), tmp_path / "notifier.log"))
    app = create_app({"TESTING": True, "DATABASE_URL": env["DATABASE_URL"],
                      "REDIS_URL": redis_server.url, "RULES_PATH": str(rules),
                      "API_TOKEN": API_TOKEN, "DB_UPGRADE": "auto"})
    client = app.test_client()
    build_id = push(app, "github", commit, name="it-notify/redis-down")["id"]

    def status() -> str:
        return str(client.get(f"/api/builds/{build_id}").get_json()["status"])

    wait_until(lambda: status() == "building", 120, "the build running")
    requests_to(forge, PREFIX, 2)  # queued and started are out before Redis stops
    redis_server.stop()
    final = wait_until(lambda: (s := status()) in FINAL_STATES and s, 180,
                       "the build ending while Redis is down", describe=status)
    states = [s.json()["state"] for s in forge.under(PREFIX)]
    assert states == ["pending", "pending"]  # queued and started; the ending is not sent yet

    redis_server.start()

    def ending_sent() -> list[str] | None:
        sent = [s.json()["state"] for s in forge.under(PREFIX)]
        return sent if len(sent) == 3 else None

    assert wait_until(ending_sent, 120, "the build's end notified after Redis came back",
                      describe=lambda: str([s.body for s in forge.under(PREFIX)])) == [
        "pending", "pending", FINAL_STATES[final]]

    def ending() -> dict[str, object] | None:  # the forge may answer before the row is updated
        (last,) = [n for n in client.get(f"/api/builds/{build_id}/notifications").get_json()[
            "notifications"] if n["event"] == final]
        return None if last["state"] == "sending" else dict(last)

    assert wait_until(ending, 30, "the ending's answer recorded")["state"] == "sent"
