"""Shared fixtures: a rules file, a Flask app with a recording queue, a signed webhook sender."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.signatures import sign_github
from service import create_app
from tests.databases import BACKENDS, SQLITE, fresh_postgres
from tests.fakes import RecordingQueue

API_TOKEN = "test-api-token-0123456789"
SECRET = "test-webhook-secret"
GIT_IDENTITY = ["-c", "user.name=Autobuild Tests", "-c", "user.email=tests@autobuild.invalid"]


def git(*args: str, cwd: Path) -> str:
    """Run git in `cwd` for test setup and return its output."""
    return subprocess.run(["git", *GIT_IDENTITY, *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


def make_repo(root: Path, files: dict[str, str], *, branch: str = "main") -> tuple[Path, str]:
    """A bare repository under `root` with one commit of `files`; returns (bare path, commit)."""
    work = root / "work"
    work.mkdir(parents=True)
    git("init", "-q", "-b", branch, cwd=work)
    commit = commit_files(work, files, "Initial commit")
    bare = root / "repo.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    git("remote", "add", "origin", str(bare), cwd=work)
    return bare, commit


def commit_files(work: Path, files: dict[str, str], message: str) -> str:
    """Write `files` into the working copy, commit them and return the commit."""
    for name, content in files.items():
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", message, cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


@pytest.fixture
def write_rules(tmp_path: Path) -> Callable[[str], Path]:
    """Write a rules file and return its path."""

    def write(text: str) -> Path:
        path = tmp_path / "rules.yaml"
        path.write_text(text)
        return path

    return write


def repo_yaml(name: str = "acme/webapp", *, clone_url: str = "file:///nonexistent/repo.git",
              image: str = "127.0.0.1:5000/acme/webapp", rules: str | None = None,
              provider: str = "github") -> str:
    """One repository entry of a rules file (rules indented as list items)."""
    rules = rules if rules is not None else (
        "      - source_type: branch\n        source: master\n        tag: latest\n")
    return (f"  - name: {name}\n    provider: {provider}\n    clone_url: {clone_url}\n"
            f"    secret: {SECRET}\n    image: {image}\n    rules:\n{rules}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Suites marked both_databases run on every backend of tests/databases.py: through
    `stack_database` (one per session, for the integration suites' shared worker) when they use
    it, else through `database` (one per test). Others run on SQLite."""
    both = metafunc.definition.get_closest_marker("both_databases") is not None
    backends = BACKENDS if both else [SQLITE]
    if "stack_database" in metafunc.fixturenames:
        metafunc.parametrize("stack_database", backends, indirect=True, ids=backends,
                             scope="session")
    elif both and "database" in metafunc.fixturenames:
        metafunc.parametrize("database", backends, indirect=True, ids=backends)


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of this test's own empty database (SQLite, or PostgreSQL in the matrix)."""
    if getattr(request, "param", SQLITE) == SQLITE:
        yield f"sqlite:///{tmp_path}/test.db"
        return
    with fresh_postgres() as url:
        yield url


@pytest.fixture
def queue() -> RecordingQueue:
    """The recording queue the app enqueues on."""
    return RecordingQueue()


@pytest.fixture
def app_factory(database: str, queue: RecordingQueue, write_rules: Callable[[str], Path]
                ) -> Iterator[Callable[..., Flask]]:
    """Build an app for a rules text (default: acme/webapp, master → latest) on the test's
    database; the apps' connections close at the end of the test."""
    made: list[Flask] = []

    def make(rules_text: str | None = None, **config: Any) -> Flask:
        path = write_rules(rules_text or "repositories:\n" + repo_yaml())
        settings = {
            "TESTING": True,
            "DATABASE_URL": database,
            "RULES_PATH": str(path),
            "BUILD_QUEUE": queue,
            "API_TOKEN": API_TOKEN,
            "SECRET_KEY": "test-secret-key",
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "DB_UPGRADE": "auto",
        }
        settings.update(config)
        app = create_app(settings)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["build_store"].engine.dispose()


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Flask:
    """The default app."""
    return app_factory()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the default app."""
    return app.test_client()


class WebhookSender:
    """Signs a GitHub payload with the test secret and posts it (flaskr's AuthActions analog)."""

    def __init__(self, client: FlaskClient, secret: str = SECRET) -> None:
        self.client = client
        self.secret = secret
        self.count = 0

    def github(self, body: bytes | dict[str, Any], *, event: str = "push",
               delivery: str | None = None, signature: str | None = None,
               headers: dict[str, str] | None = None) -> Any:
        """POST to /hooks/github with X-Hub-Signature-256 over the exact bytes."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.count += 1
        all_headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or f"delivery-{self.count}",
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature or sign_github(raw, self.secret),
        }
        all_headers.update(headers or {})
        return self.client.post("/hooks/github", data=raw, headers=all_headers)


@pytest.fixture
def sender(client: FlaskClient) -> Iterator[WebhookSender]:
    """A signed-webhook sender for the default app."""
    yield WebhookSender(client)


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """pytest-httpserver's receivers listen on 127.0.0.1 only (any free port)."""
    return ("127.0.0.1", 0)
