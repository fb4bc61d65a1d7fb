"""A private repository over authenticated HTTPS-style git: the token never leaks."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest
from flask import Flask

from tests.conftest import API_TOKEN, SECRET
from tests.integration.conftest import (
    WORKER_SECRETS,
    RulesWriter,
    unique_image,
    wait_for_build,
)
from tests.integration.git_http import GitHTTPServer, serve

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
TOKEN = WORKER_SECRETS["AUTOBUILD_IT_GIT_TOKEN"]


@pytest.fixture
def private_server(source_repo: Callable[..., tuple[Path, str]]
                   ) -> Iterator[tuple[str, GitHTTPServer, str]]:
    dockerfile = ("FROM local/busybox:latest\nCOPY . /src\n"
                  "RUN cat /src/.git/config && env | grep -c GIT_ || true\n")
    bare, commit = source_repo({"Dockerfile": dockerfile})
    app = GitHTTPServer(bare.parent, "x-access-token", TOKEN)
    with serve(app) as base:
        yield f"{base}/{bare.name}", app, commit


def private_rules(url: str, image: str, variable: str) -> str:
    """Rules for the private repository, its token read from environment variable `variable`
    (set for the tests' worker and, by the test, for this web process)."""
    return (f"repositories:\n  - name: it/private-src\n    provider: github\n"
            f"    clone_url: {url}\n    insecure_clone_url: true\n"
            f"    secret: {SECRET}\n    image: {image}\n"
            f"    git_auth: {{username: x-access-token, token: '${{{variable}}}'}}\n"
            "    rules:\n      - source_type: branch\n        source: main\n        tag: latest\n")


def test_token_clones_and_never_reaches_logs_or_the_image(
    live_app: tuple[Flask, RulesWriter], private_server: tuple[str, GitHTTPServer, str],
    docker_client: docker.DockerClient, monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, write_rules = live_app
    url, server, commit = private_server
    image = unique_image("private")
    monkeypatch.setenv("AUTOBUILD_IT_GIT_TOKEN", TOKEN)
    write_rules(private_rules(url, image, "AUTOBUILD_IT_GIT_TOKEN"))
    client = app.test_client()

    response = client.post("/api/builds", json={"repository": "it/private-src", "ref": "main"},
                           headers=AUTH)

    assert response.status_code == 202, response.get_json()
    assert response.get_json()["builds"][0]["commit"] == commit
    build = wait_for_build(client, response.get_json()["builds"][0]["id"])
    assert build["status"] == "success", build["error"]
    assert server.seen_authorization.count(server.expected) >= 2  # ls-remote and fetch
    log = client.get(f"/api/builds/{build['id']}/log").get_data(as_text=True)
    encoded = server.expected.split()[-1]
    assert TOKEN not in log and encoded not in log
    assert "[remote \"origin\"]" in log  # the image's .git/config was printed…
    container = docker_client.containers.create(f"{image}:latest", command=["true"])
    try:
        stream, _ = container.get_archive("/src/.git/config")
        config = tarfile.open(fileobj=io.BytesIO(b"".join(stream))).extractfile("config")
        assert config is not None
        text = config.read().decode()
    finally:
        container.remove(force=True)
    assert TOKEN not in text and encoded not in text  # …and holds no credential
    assert url in text


def test_wrong_token_fails_build_now_with_gits_message_and_no_token(
    live_app: tuple[Flask, RulesWriter], private_server: tuple[str, GitHTTPServer, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, write_rules = live_app
    url, _, _ = private_server
    monkeypatch.setenv("AUTOBUILD_IT_WRONG_GIT_TOKEN", "wrong-token-value")
    write_rules(private_rules(url, unique_image("private"), "AUTOBUILD_IT_WRONG_GIT_TOKEN"))
    response = app.test_client().post(
        "/api/builds", json={"repository": "it/private-src", "ref": "main"}, headers=AUTH)
    assert response.status_code == 502
    error = response.get_json()["error"]
    assert "git ls-remote failed" in error and "wrong-token-value" not in error
