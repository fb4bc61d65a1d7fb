"""The production web command under 200 open live-log streams still answers a webhook: streams
are capped per process, so they never take every thread (issue 11)."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from core.signatures import sign_github
from records.builds import BuildStore
from records.db import make_engine
from tests.conftest import API_TOKEN, repo_yaml
from tests.core.fixtures import FIXTURES_DIR
from tests.factories import make_plan
from tests.integration.conftest import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def procfile_web_command(port: int) -> list[str]:
    """The Procfile's web: line, as honcho would run it, on `port`."""
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:"))
    command = line.removeprefix("web:").strip()
    command = command.replace("${AUTOBUILD_BIND:-127.0.0.1}", "127.0.0.1")
    words = shlex.split(command.replace("${PORT:-8000}", str(port)))
    assert words[0] == "gunicorn"
    return [sys.executable, "-m", "gunicorn", *words[1:]]


@pytest.fixture
def gunicorn(tmp_path: Path, redis_url: str) -> Iterator[tuple[str, BuildStore]]:
    """The real web process (gunicorn, as in the Procfile) on its own database."""
    port = free_port()
    rules = tmp_path / "rules.yaml"
    rules.write_text("repositories:\n" + repo_yaml("Codertocat/Hello-World"))
    database = f"sqlite:///{tmp_path}/web.db"
    env = dict(os.environ, DATABASE_URL=database, AUTOBUILD_RULES=str(rules),
               AUTOBUILD_VAR_DIR=str(tmp_path / "var"), AUTOBUILD_DB_UPGRADE="auto",
               AUTOBUILD_API_TOKEN=API_TOKEN, REDIS_URL=redis_url.rsplit("/", 1)[0] + "/11")
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(procfile_web_command(port), cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{base}/healthz", timeout=2).status_code == 200
        except (requests.ConnectionError, requests.Timeout):  # its workers still booting
            return False

    engine = make_engine(database)
    try:
        wait_until(up, 60, "gunicorn answering /healthz")
        yield base, BuildStore(engine)
    finally:
        process.terminate()
        process.wait(timeout=30)
        engine.dispose()
        log.close()


def open_stream(port: int, build_id: str) -> socket.socket:
    """A client that asked for a build's live log and keeps the connection open."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"GET /builds/{build_id}/events HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    return sock


def test_two_hundred_open_streams_leave_webhooks_answering(
        gunicorn: tuple[str, BuildStore]) -> None:
    base, store = gunicorn
    port = int(base.rsplit(":", 1)[1])
    (running,) = store.create_builds([make_plan(repository="Codertocat/Hello-World")])
    streams = [open_stream(port, running.id) for _ in range(200)]
    try:
        answers = []
        for sock in streams:
            answers.append(sock.recv(64).split(b" ", 2)[1])
        assert answers.count(b"200") <= 16 and answers.count(b"503") >= 184
        body = (FIXTURES_DIR / "github/push-branch.json").read_bytes()
        response = requests.post(f"{base}/hooks/github", data=body, timeout=10, headers={
            "X-GitHub-Event": "push", "X-GitHub-Delivery": "under-load",
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign_github(body, "test-webhook-secret")})
        assert response.status_code == 202, response.text  # within the forge's 10 s
        assert requests.get(f"{base}/", timeout=10).status_code == 200
    finally:
        for sock in streams:
            sock.close()
