"""PostgreSQL restarted under the web process: webhooks get 503 while it is down, nothing is
half-recorded, and the service recovers by itself (a private cluster, so no other test sees
it go down)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import WebhookSender, repo_yaml
from tests.core.fixtures import FIXTURES_DIR
from tests.fakes import RecordingQueue
from tests.integration.conftest import free_port

pytestmark = pytest.mark.integration


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(f"PostgreSQL's {name} is missing; scripts/setup.sh test installs it")
    return found[-1]


class Cluster:
    """A throwaway PostgreSQL cluster run as the postgres user on a free port."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="autobuild-pg-"))
        os.chmod(self.folder, 0o777)
        shutil.chown(self.folder, "postgres")
        self.data = self.folder / "data"
        self.port = free_port()
        self._as_postgres([_pg_bin("initdb"), "-D", str(self.data), "-A", "trust",
                           "-U", "autobuild", "--no-sync"])

    def _as_postgres(self, command: list[str]) -> None:
        subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", " ".join(
            f"'{part}'" for part in command)], check=True, capture_output=True, timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://autobuild@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data), "-o", options,
                           "-l", str(self.folder / "log"), "-w", "start"])

    def stop(self) -> None:
        self._as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                           "stop"])


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    made = Cluster()
    made.start()
    yield made
    try:
        made.stop()
    except subprocess.CalledProcessError:
        pass  # already stopped by the test
    shutil.rmtree(made.folder, ignore_errors=True)


def test_postgres_restarting_gives_503_then_recovers_by_itself(
    cluster: Cluster, app_factory: Callable[..., Flask], queue: RecordingQueue,
) -> None:
    app = app_factory("repositories:\n" + repo_yaml("Codertocat/Hello-World"),
                      DATABASE_URL=cluster.url)
    sender = WebhookSender(app.test_client())
    push = json.loads((FIXTURES_DIR / "github/push-branch.json").read_bytes())
    assert sender.github(push, delivery="before").status_code == 202

    cluster.stop()
    down = sender.github(push | {"after": "f" * 40}, delivery="while-down")
    assert down.status_code == 503 and down.headers["Retry-After"] == "5"
    assert app.test_client().get("/").status_code == 503

    cluster.start()
    again = sender.github(push | {"after": "f" * 40}, delivery="while-down")
    assert again.status_code == 202, again.get_json()
    deliveries = app.test_client().get("/api/deliveries").get_json()["deliveries"]
    assert [d["delivery_id"] for d in deliveries] == ["while-down", "before"]
    assert len(queue.enqueued) == 2
