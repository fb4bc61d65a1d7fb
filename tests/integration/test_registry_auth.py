"""Pushing to a registry that needs a login (htpasswd, the same flow as Docker Hub's)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import API_TOKEN, SECRET
from tests.integration.conftest import (
    REGISTRY_PASSWORD,
    REGISTRY_USER,
    RulesWriter,
    free_port,
    wait_for_build,
)

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def auth_rules(bare: Path, image: str, password: str) -> str:
    return (f"repositories:\n  - name: it/private\n    provider: github\n"
            f"    clone_url: file://{bare}\n    secret: {SECRET}\n    image: {image}\n"
            f"    registry_auth: {{username: {REGISTRY_USER}, password: '{password}'}}\n"
            "    rules:\n      - source_type: branch\n        source: main\n        tag: latest\n")


def test_right_credentials_push_and_are_masked(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    private_registry: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, write_rules = live_app
    monkeypatch.setenv("AUTOBUILD_IT_REGISTRY_PASSWORD", REGISTRY_PASSWORD)
    bare, _ = source_repo({"Dockerfile": "FROM local/busybox:latest\n"
                                         f"RUN echo {REGISTRY_PASSWORD}\n"})
    image = f"{private_registry}/team/app"
    write_rules(auth_rules(bare, image, "${AUTOBUILD_IT_REGISTRY_PASSWORD}"))
    client = app.test_client()
    queued = client.post("/api/builds", json={"repository": "it/private", "ref": "main"},
                         headers=AUTH).get_json()["builds"][0]

    build = wait_for_build(client, queued["id"])

    assert build["status"] == "success", build["error"]
    manifest = requests.head(
        f"http://{private_registry}/v2/team/app/manifests/latest", timeout=10,
        auth=(REGISTRY_USER, REGISTRY_PASSWORD),
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    assert manifest.headers["Docker-Content-Digest"] == build["digest"]
    log = client.get(f"/api/builds/{build['id']}/log").get_data(as_text=True)
    assert REGISTRY_PASSWORD not in log
    assert "***" in log


def test_wrong_credentials_fail_with_a_clear_message(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    private_registry: str,
) -> None:
    app, write_rules = live_app
    bare, _ = source_repo()
    write_rules(auth_rules(bare, f"{private_registry}/team/denied",
                           "${AUTOBUILD_IT_WRONG_PASSWORD}"))
    client = app.test_client()
    queued = client.post("/api/builds", json={"repository": "it/private", "ref": "main"},
                         headers=AUTH).get_json()["builds"][0]

    build = wait_for_build(client, queued["id"])

    assert build["status"] == "failed"
    assert build["error"].startswith(f"pushing {private_registry}/team/denied:latest failed")
    assert build["error"].endswith("unauthorized: authentication required"), build["error"]
    log = client.get(f"/api/builds/{build['id']}/log").get_data(as_text=True)
    assert "retrying" not in log
    assert "not-the-password" not in log


def test_unreachable_registry_is_retried_then_fails_clearly(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
) -> None:
    app, write_rules = live_app
    bare, _ = source_repo()
    nowhere = f"127.0.0.1:{free_port()}"
    write_rules(auth_rules(bare, f"{nowhere}/team/app", "irrelevant").replace(
        "    registry_auth: {username: builder, password: 'irrelevant'}\n", ""))
    client = app.test_client()
    queued = client.post("/api/builds", json={"repository": "it/private", "ref": "main"},
                         headers=AUTH).get_json()["builds"][0]

    build = wait_for_build(client, queued["id"])

    assert build["status"] == "failed"
    assert build["error"].startswith(f"pushing {nowhere}/team/app:latest failed")
    assert "connection refused" in build["error"]
    log = client.get(f"/api/builds/{build['id']}/log").get_data(as_text=True)
    assert log.count("retrying in") == 3


def test_worker_docker_config_credentials_push(
    isolated_stack: Callable[..., tuple[FlaskClient, RulesWriter, object]],
    source_repo: Callable[..., tuple[Path, str]], private_registry: str, tmp_path: Path,
) -> None:
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    login = base64.b64encode(f"{REGISTRY_USER}:{REGISTRY_PASSWORD}".encode()).decode()
    (config_dir / "config.json").write_text(json.dumps({"auths": {private_registry: {
        "auth": login}}}))  # what `docker login` writes without a credential store
    client, write_rules, _ = isolated_stack(5, DOCKER_CONFIG=str(config_dir))
    bare, _ = source_repo()
    write_rules(auth_rules(bare, f"{private_registry}/team/from-config", "unused").replace(
        "    registry_auth: {username: builder, password: 'unused'}\n", ""))
    queued = client.post("/api/builds", json={"repository": "it/private", "ref": "main"},
                         headers=AUTH).get_json()["builds"][0]

    build = wait_for_build(client, queued["id"])

    assert build["status"] == "success", build["error"]
    assert build["tags"] == [f"{private_registry}/team/from-config:latest"]
