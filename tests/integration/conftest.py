"""The real stack for integration tests: Docker engine, registry, Redis and a real worker process.

scripts/test starts the stack (scripts/stack.sh); a missing piece fails the tests, never skips them.
The worker and the apps share one database per session and backend (`stack_database`): SQLite,
and a fresh PostgreSQL database for suites marked both_databases (tests/databases.py).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from core.signatures import sign_github
from service import create_app
from tests.conftest import API_TOKEN, SECRET, make_repo
from tests.core.fixtures import FIXTURES_DIR
from tests.databases import SQLITE, fresh_postgres
from tests.waiting import wait_until

REGISTRY = "127.0.0.1:5000"
BUILD_DEADLINE = 180.0
TERMINAL = {"success", "failed", "cancelled", "timed_out", "superseded", "skipped"}
BASE_IMAGE = "local/busybox:latest"
REGISTRY_USER = "builder"
REGISTRY_PASSWORD = "it-registry-pa55word"  # noqa: S105 - a test registry's password
WORKER_SECRETS = {
    "AUTOBUILD_IT_REGISTRY_PASSWORD": REGISTRY_PASSWORD,
    "AUTOBUILD_IT_WRONG_PASSWORD": "not-the-password",
    "AUTOBUILD_IT_GIT_TOKEN": "ghp_itSecretDeployToken0123456789",
    "AUTOBUILD_IT_WRONG_GIT_TOKEN": "wrong-token-value",
    "AUTOBUILD_IT_GREETING": "open-sesame-42",
    "AUTOBUILD_IT_BUILD_SECRET": "bk-secret-7f3a9c2e51d04b68",
}
"""Secrets the tests' workers read from their environment (rules name them as ${VAR})."""
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
"""The headers of an API call with the tests' API token."""


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A client of the real engine, which must be up with the local base image."""
    try:
        client = docker.from_env()
        client.ping()
        client.images.get(BASE_IMAGE)
    except Exception as exc:  # noqa: BLE001 - any failure means the stack is not there
        pytest.fail(f"the Docker engine or {BASE_IMAGE} is missing ({exc}); run scripts/stack.sh")
    yield client
    client.close()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server for this test session, so parallel runs never share a queue."""
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder), "--maxmemory-policy", "noeviction"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"

    def answers() -> bool:
        if process.poll() is not None:
            pytest.fail("redis-server exited at start; is it installed? run scripts/setup.sh")
        try:
            return bool(Redis.from_url(url).ping())
        except Exception:  # noqa: BLE001 - not up yet
            return False

    wait_until(answers, 20, "redis-server answering on its port")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def stack(docker_client: docker.DockerClient, redis_url: str) -> dict[str, str]:
    """Check the registry answers; Redis is this session's own."""
    try:
        requests.get(f"http://{REGISTRY}/v2/", timeout=5).raise_for_status()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"the registry is not reachable ({exc}); run scripts/stack.sh")
    return {"redis_url": redis_url, "registry": REGISTRY}


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The var/ folder (database, mirrors, workspaces) shared by the app and the worker."""
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
def stack_database(request: pytest.FixtureRequest, var_dir: Path) -> Iterator[str]:
    """The database the session's worker and apps share: SQLite in var/, or (the
    `postgresql` case) a fresh PostgreSQL database dropped at the end."""
    if request.param == SQLITE:
        yield f"sqlite:///{var_dir}/autobuild.db"
        return
    with fresh_postgres("autobuild_it") as url:
        yield url


@pytest.fixture(scope="session")
def worker_env(stack: dict[str, str], var_dir: Path, stack_database: str) -> dict[str, str]:
    """The environment a worker process runs with."""
    env = dict(os.environ)
    env.update(REDIS_URL=stack["redis_url"], DATABASE_URL=stack_database,
               AUTOBUILD_VAR_DIR=str(var_dir), AUTOBUILD_RULES=str(var_dir / "rules.yaml"),
               AUTOBUILD_DB_UPGRADE="auto", AUTOBUILD_BUILD_NETWORK="none", **WORKER_SECRETS)
    return env


@pytest.fixture(scope="session")
def worker(worker_env: dict[str, str], var_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real `python -m workers` process, as the Procfile starts it."""
    backend = worker_env["DATABASE_URL"].split(":", 1)[0].split("+", 1)[0]
    log = open(var_dir / f"worker-{backend}.log", "wb")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen([sys.executable, "-m", "workers"], env=worker_env,
                               cwd=Path(__file__).resolve().parents[2], stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


RulesWriter = Callable[[str], None]


@pytest.fixture
def live_app(worker: subprocess.Popen[bytes], worker_env: dict[str, str]
             ) -> Iterator[tuple[Flask, RulesWriter]]:
    """The real app (real RQ queue and database) and a function that (re)writes the rules
    both it and the worker read."""
    rules_path = Path(worker_env["AUTOBUILD_RULES"])
    rules_path.write_text("repositories: []\n")

    def write_rules(text: str) -> None:
        rules_path.write_text(text)
        app.extensions["rules"]._checked = 0.0
        mtime = time.time() + 1
        os.utime(rules_path, (mtime, mtime))
        assert app.extensions["rules"].error is None  # reloads now, before any request

    app = create_app({
        "TESTING": True,
        "DATABASE_URL": worker_env["DATABASE_URL"],
        "REDIS_URL": worker_env["REDIS_URL"],
        "RULES_PATH": str(rules_path),
        "API_TOKEN": API_TOKEN,
        "SECRET_KEY": "integration",
        "DB_UPGRADE": "auto",
    })
    yield app, write_rules
    app.extensions["build_store"].engine.dispose()


def unique_image(prefix: str = "it") -> str:
    """A registry repository no other test uses."""
    return f"{REGISTRY}/{prefix}-{uuid.uuid4().hex[:10]}/app"


def main_rule(**fields: str) -> str:
    """The rule main → latest as rules-file lines, with other fields (YAML values as given)."""
    values = {"source_type": "branch", "source": "main", "tag": "latest", **fields}
    lines = [f"        {key}: {value}\n" for key, value in values.items()]
    return "      - " + "".join(lines).removeprefix("        ")


def rules_for(name: str, clone_url: str, image: str, rules: str | None = None) -> str:
    """A rules file with one GitHub repository."""
    rules = rules or main_rule()
    return (f"repositories:\n  - name: {name}\n    provider: github\n"
            f"    clone_url: {clone_url}\n    secret: {SECRET}\n    image: {image}\n"
            f"    rules:\n{rules}")


def wait_for_build(client: FlaskClient, build_id: str,
                   deadline: float = BUILD_DEADLINE) -> dict[str, Any]:
    """Poll the API until the build ends (or fail at the deadline)."""
    seen: dict[str, Any] = {}

    def ended() -> dict[str, Any] | None:
        seen.update(client.get(f"/api/builds/{build_id}").get_json())
        return dict(seen) if seen["status"] in TERMINAL else None

    return wait_until(ended, deadline, f"build {build_id} ending", interval=0.2,
                      describe=lambda: str(seen))


def registry_digest(reference: str) -> str:
    """The registry's manifest digest for `host/repo:tag`."""
    host, _, rest = reference.partition("/")
    repo, _, tag = rest.rpartition(":")
    response = requests.head(
        f"http://{host}/v2/{repo}/manifests/{tag}", timeout=10,
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json, "
                           "application/vnd.oci.image.manifest.v1+json"})
    response.raise_for_status()
    return response.headers["Docker-Content-Digest"]


def read_file_from_registry_image(client: docker.DockerClient, reference: str, path: str) -> str:
    """Pull `reference` afresh from the registry and read one file out of it."""
    import io
    import tarfile

    try:
        client.images.remove(reference, force=True)
    except docker.errors.ImageNotFound:
        pass
    image = client.images.pull(reference)
    container = client.containers.create(image.id, command=["true"])
    try:
        stream, _ = container.get_archive(path)
        archive = tarfile.open(fileobj=io.BytesIO(b"".join(stream)))
        member = archive.extractfile(archive.getmembers()[0])
        assert member is not None
        return member.read().decode()
    finally:
        container.remove(force=True)


@pytest.fixture
def source_repo(tmp_path: Path) -> Callable[..., tuple[Path, str]]:
    """Make a bare git repository with a Dockerfile FROM the local base image."""

    def make(files: dict[str, str] | None = None) -> tuple[Path, str]:
        marker = uuid.uuid4().hex
        content = {
            "Dockerfile": (f"FROM {BASE_IMAGE}\nCOPY . /src\n"
                           "RUN echo \"run-step-output $(cat /src/marker.txt)\"\n"),
            "marker.txt": marker,
        }
        content.update(files or {})
        return make_repo(tmp_path / f"src-{marker[:6]}", content)

    return make


def wait_for_log(client: FlaskClient, build_id: str, text: str,
                 deadline: float = BUILD_DEADLINE) -> str:
    """Poll the build log until it contains `text`; returns the log."""
    log = [""]

    def logged() -> str | None:
        log[0] = client.get(f"/api/builds/{build_id}/log").get_data(as_text=True)
        return log[0] if text in log[0] else None

    return wait_until(logged, deadline, f"{text!r} in the log of build {build_id}",
                      interval=0.2, describe=lambda: log[0])


def container_exists(client: docker.DockerClient, container_id: str) -> bool:
    """Whether the engine still has this container (running or not)."""
    try:
        client.containers.get(container_id)
    except docker.errors.NotFound:
        return False
    return True


def start_worker(env: dict[str, str], log_path: Path, *queues: str) -> subprocess.Popen[bytes]:
    """Start one more `python -m workers` process (its own session, for killing it whole),
    on `queues` (`--queue` each) or the default builds queue."""
    log = open(log_path, "wb")  # noqa: SIM115 - the process owns it
    options = [f"--queue={name}" for name in queues]
    return subprocess.Popen([sys.executable, "-m", "workers", *options], env=env,
                            cwd=Path(__file__).resolve().parents[2], stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


@pytest.fixture
def isolated_stack(worker_env: dict[str, str], var_dir: Path, tmp_path: Path,
                   worker: object) -> Iterator[Callable[..., tuple[FlaskClient, RulesWriter,
                                                                   subprocess.Popen[bytes]]]]:
    """An app and its own worker on a Redis database no other worker reads (for worker
    settings or for killing the worker): call it with extra worker environment."""
    started: list[subprocess.Popen[bytes]] = []
    apps: list[Flask] = []

    def make(db: int, *, workers: int = 1, **env_changes: str
             ) -> tuple[FlaskClient, RulesWriter, subprocess.Popen[bytes]]:
        redis_db = worker_env["REDIS_URL"].rsplit("/", 1)[0] + f"/{db}"
        Redis.from_url(redis_db).flushdb()  # no job left by an earlier test on this db
        rules_path = tmp_path / f"rules-{db}.yaml"
        rules_path.write_text("repositories: []\n")
        env = dict(worker_env, REDIS_URL=redis_db, AUTOBUILD_RULES=str(rules_path),
                   **env_changes)
        app = create_app({"TESTING": True, "DATABASE_URL": env["DATABASE_URL"],
                          "REDIS_URL": redis_db, "RULES_PATH": str(rules_path),
                          "API_TOKEN": API_TOKEN, "DB_UPGRADE": "auto"})
        apps.append(app)

        def write_rules(text: str) -> None:
            rules_path.write_text(text)
            app.extensions["rules"]._checked = 0.0
            later = time.time() + 1
            os.utime(rules_path, (later, later))
            assert app.extensions["rules"].error is None  # reloads now, before any request

        for number in range(workers):
            started.append(start_worker(env, var_dir / f"worker-{db}-{number}.log"))
        return app.test_client(), write_rules, started[-workers]

    yield make
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    for app in apps:
        app.extensions["build_store"].engine.dispose()


def push_delivery(client: object, name: str, ref: str, before: str, after: str,
                  delivery: str) -> dict[str, object]:
    """POST a signed GitHub push of `before`..`after` on `ref` for `name`; its 202 answer."""
    payload = json.loads((FIXTURES_DIR / "github/push-branch.json").read_bytes())
    payload["repository"]["full_name"] = name
    payload.update(ref=ref, before=before, after=after)
    payload["head_commit"]["id"] = after
    body = json.dumps(payload).encode()
    response = client.post("/hooks/github", data=body, headers={  # type: ignore[attr-defined]
        "X-GitHub-Event": "push", "X-GitHub-Delivery": delivery, "Content-Type":
        "application/json", "X-Hub-Signature-256": sign_github(body, SECRET)})
    assert response.status_code == 202, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


from tests.integration.engines import private_engine  # noqa: E402, F401 - the fixture
from tests.integration.registries import private_registry  # noqa: E402, F401 - the fixture
