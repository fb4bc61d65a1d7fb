"""The real stack for notification tests: a local server playing the forges and receivers,
a source repository, and a real notifier process (`python -m workers --queue notifications`)."""

from __future__ import annotations

import base64
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer

from tests.conftest import make_repo, repo_yaml
from tests.integration.conftest import BASE_IMAGE, wait_for_build
from tests.integration.notifications.fake_forge import FakeForge, Seen
from tests.integration.test_forges_e2e import PROVIDER, make_hook
from tests.waiting import wait_until

PUBLIC_URL = "https://autobuild.example.com"
TOKEN = "it-status-token-0123456789"
HOOK_SECRET = "it-hook-secret-0123456789"
NOTIFIER_SECRETS = {"IT_STATUS_TOKEN": TOKEN, "IT_HOOK_SECRET": HOOK_SECRET}
RULE = "      - source_type: branch\n        source: main\n        tag: latest\n"
PUSHES = {"github": "github/push-branch.json", "gitea": "gitea/push-branch.json",
          "gitlab": "gitlab/push-branch.json",
          "bitbucket-cloud": "bitbucket-cloud/push-branch.json",
          "bitbucket-server": "bitbucket-server/refs-changed-branch-update.json"}
NAMES = {"github": "it-notify/gh-app", "gitea": "it-notify/gitea-app",
         "gitlab": "it-notify/sub-group/gl-app", "bitbucket-cloud": "it-notify-ws/bbc-app",
         "bitbucket-server": "ITNOTIFY/bbs-app"}
STATUS_KEYS = {  # flavour -> (api path prefix on the fake forge, extra status: keys)
    "github": ("/gh/api/v3", ""), "gitea": ("/gitea/api/v1", ""),
    "gitlab": ("/gitlab/api/v4", ""),
    "bitbucket-cloud": ("/bbc", "      username: it-builder\n      bitbucket: cloud\n"),
    "bitbucket-server": ("/bbs", "      bitbucket: server\n"),
}


@pytest.fixture(scope="session")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A bare repository whose main builds quickly (its layers are cached after one build)."""
    marker = uuid.uuid4().hex
    return make_repo(tmp_path_factory.mktemp("notify-src"), {
        "Dockerfile": f"FROM {BASE_IMAGE}\nRUN echo notify-{marker}\n"})


@pytest.fixture(scope="session")
def forge(httpserver_module: HTTPServer, stack_database: str) -> FakeForge:
    """The fake forge, afresh for each database backend: the builds of one backend's run have
    the same repositories and commits as the other's, so its requests must not be seen."""
    httpserver_module.clear()
    fake = FakeForge(httpserver_module)
    fake.install()
    return fake


@pytest.fixture(scope="session")
def httpserver_module(make_httpserver: HTTPServer) -> Iterator[HTTPServer]:
    """pytest-httpserver's server, kept for the whole module (the notifier posts to it)."""
    make_httpserver.clear()
    yield make_httpserver
    make_httpserver.clear()


def start_notifier(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`python -m workers --queue notifications`, as the Procfile's notifier: line."""
    return subprocess.Popen([sys.executable, "-m", "workers", "--queue", "notifications"],
                            env=env, cwd=Path(__file__).resolve().parents[2],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def notifier_env(env: dict[str, str], forge: FakeForge) -> dict[str, str]:
    return dict(env, AUTOBUILD_PUBLIC_URL=PUBLIC_URL, AUTOBUILD_NOTIFY_BACKOFF="1",
                IT_CHAT_URL=forge.url("/chat/T000/B000/it-chat-key"), **NOTIFIER_SECRETS)


@pytest.fixture(scope="session")
def notifier(worker: subprocess.Popen[bytes], worker_env: dict[str, str], var_dir: Path,
             forge: FakeForge) -> Iterator[subprocess.Popen[bytes]]:
    process = start_notifier(notifier_env(worker_env, forge), var_dir / "notifier.log")
    yield process
    stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def repository(flavour: str, clone_url: str, image: str, forge: FakeForge, *,
               notify: str = "", name: str | None = None, status_prefix: str | None = None
               ) -> str:
    """One repository entry with a commit-status target on the fake forge (none when
    `status_prefix` is ""), and the `notify:` block `notify`."""
    prefix, extra = STATUS_KEYS[flavour]
    prefix = prefix if status_prefix is None else status_prefix
    status = (f"    status:\n      token: ${{IT_STATUS_TOKEN}}\n      api_url: "
              f"{forge.url(prefix)}\n{extra}") if prefix else ""
    return repo_yaml(name or NAMES[flavour], provider=PROVIDER[flavour], clone_url=clone_url,
                     image=image, rules=RULE).replace("    rules:\n", status + notify
                                                      + "    rules:\n")


def push(app: Flask, flavour: str, commit: str, *, name: str | None = None) -> dict[str, Any]:
    """Post the flavour's real push fixture for `commit`; the queued build."""
    hook = make_hook(PUSHES[flavour], name or NAMES[flavour], ref="refs/heads/main",
                     commit=commit)
    response = hook.post(app.test_client())
    assert response.status_code == 202, response.get_json()
    (queued,) = response.get_json()["builds"]
    return dict(queued)


def push_and_build(app: Flask, flavour: str, commit: str, *,
                   name: str | None = None) -> dict[str, Any]:
    """Post the flavour's real push fixture for `commit` and wait for the build to end."""
    return wait_for_build(app.test_client(), push(app, flavour, commit, name=name)["id"])


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def requests_to(forge: FakeForge, prefix: str, count: int) -> list[Seen]:
    """The requests under `prefix`, once there are at least `count` (fail after a minute)."""
    def arrived() -> list[Seen] | None:
        seen = forge.under(prefix)
        return seen if len(seen) >= count else None

    return wait_until(arrived, 60, f"{count} requests under {prefix}",
                      describe=lambda: str([(s.path, s.body[:80]) for s in forge.under(prefix)]))
