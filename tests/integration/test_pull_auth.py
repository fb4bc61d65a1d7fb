"""Private base images: `pull_auth` hands a registry login to one repository's builds, and a
repository without it is refused by the registry (htpasswd, the same flow as Docker Hub's)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from pathlib import Path

import docker
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.conftest import (
    AUTH,
    BASE_IMAGE,
    REGISTRY_PASSWORD,
    REGISTRY_USER,
    RulesWriter,
    main_rule,
    registry_digest,
    rules_for,
    unique_image,
    wait_for_build,
)

pytestmark = pytest.mark.integration
LOGIN = {"username": REGISTRY_USER, "password": REGISTRY_PASSWORD}


def private_base(client: docker.DockerClient, registry: str) -> str:
    """Push the local base image to the htpasswd registry under a new tag, and drop the tag
    from the engine, so a build has to pull it from there."""
    repository, tag = f"{registry}/base/busybox", uuid.uuid4().hex[:12]
    client.images.get(BASE_IMAGE).tag(repository, tag)
    for chunk in client.api.push(repository, tag, stream=True, decode=True, auth_config=LOGIN):
        assert "error" not in chunk, chunk
    client.images.remove(f"{repository}:{tag}")
    return f"{repository}:{tag}"


def repository(name: str, bare: Path, image: str, pull_auth: str) -> str:
    """One repository entry building main, with these `pull_auth` lines."""
    entry = rules_for(name, f"file://{bare}", image).removeprefix("repositories:\n")
    return entry.replace("    rules:\n", f"{pull_auth}    rules:\n")


def test_pull_auth_pulls_a_private_base_only_for_its_repository(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    private_registry: str, docker_client: docker.DockerClient,
) -> None:
    app, write_rules = live_app
    allowed_base, refused_base = (private_base(docker_client, private_registry)
                                  for _ in range(2))
    allowed, _ = source_repo({"Dockerfile": f"FROM {allowed_base}\nRUN echo on-private-base\n"})
    refused, _ = source_repo({"Dockerfile": f"FROM {refused_base}\nRUN echo never\n"})
    image = unique_image("pullauth")
    login = (f"    pull_auth:\n      - registry: {private_registry}\n"
             f"        username: {REGISTRY_USER}\n"
             "        password: '${AUTOBUILD_IT_REGISTRY_PASSWORD}'\n")
    write_rules("repositories:\n" + repository("it/with-login", allowed, image, login)
                + repository("it/without-login", refused, unique_image("nologin"), ""))
    client = app.test_client()
    builds = [client.post("/api/builds", json={"repository": name, "ref": "main"},
                          headers=AUTH).get_json()["builds"][0]
              for name in ("it/with-login", "it/without-login")]

    done, denied = (wait_for_build(client, build["id"]) for build in builds)

    assert done["status"] == "success", done["error"]
    assert registry_digest(f"{image}:latest") == done["digest"]
    log = client.get(f"/api/builds/{done['id']}/log").get_data(as_text=True)
    assert (f"Pulling base image {allowed_base} with the pull_auth credentials for "
            f"{private_registry}") in log
    assert "on-private-base" in log and REGISTRY_PASSWORD not in log
    assert denied["status"] == "failed"
    assert denied["error"].startswith(f"base image {refused_base} is not on this engine and "
                                      "could not be pulled: "), denied["error"]
    assert "401 Unauthorized" in denied["error"], denied["error"]
    assert "Pulling base image" not in client.get(
        f"/api/builds/{denied['id']}/log").get_data(as_text=True)


def test_wrong_pull_credentials_fail_naming_the_base_image(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    private_registry: str, docker_client: docker.DockerClient,
) -> None:
    app, write_rules = live_app
    base = private_base(docker_client, private_registry)
    bare, _ = source_repo({"Dockerfile": f"FROM {base}\n"})
    login = (f"    pull_auth:\n      - registry: {private_registry}\n"
             f"        username: {REGISTRY_USER}\n"
             "        password: '${AUTOBUILD_IT_WRONG_PASSWORD}'\n")
    write_rules("repositories:\n" + repository("it/bad-login", bare, unique_image("bad"), login))
    client = app.test_client()
    queued = client.post("/api/builds", json={"repository": "it/bad-login", "ref": "main"},
                         headers=AUTH).get_json()["builds"][0]

    build = wait_for_build(client, queued["id"])

    assert build["status"] == "failed"
    assert build["error"].startswith(f"could not pull base image {base} with the pull_auth "
                                     f"credentials for {private_registry}: "), build["error"]
    assert "not-the-password" not in build["error"]


@pytest.mark.parametrize("builder", ["buildkit", "classic"])
def test_the_workers_own_logins_do_not_reach_another_registrys_base_image(
    isolated_stack: Callable[..., tuple[FlaskClient, RulesWriter, object]],
    source_repo: Callable[..., tuple[Path, str]], private_registry: str,
    docker_client: docker.DockerClient, tmp_path: Path, builder: str,
) -> None:
    config_dir = tmp_path / "worker-docker-config"
    config_dir.mkdir()
    login = base64.b64encode(f"{REGISTRY_USER}:{REGISTRY_PASSWORD}".encode()).decode()
    (config_dir / "config.json").write_text(json.dumps({"auths": {private_registry: {
        "auth": login}}}))  # the worker may log in there, for some other repository's images
    client, write_rules, _ = isolated_stack(13 if builder == "classic" else 14,
                                            DOCKER_CONFIG=str(config_dir))
    base = private_base(docker_client, private_registry)
    bare, _ = source_repo({"Dockerfile": f"FROM {base}\nRUN echo borrowed-a-login\n"})
    write_rules(rules_for("it/borrower", f"file://{bare}", unique_image("borrower"),
                          main_rule(builder=builder)))
    queued = client.post("/api/builds", json={"repository": "it/borrower", "ref": "main"},
                         headers=AUTH).get_json()["builds"][0]

    build = wait_for_build(client, queued["id"])

    assert build["status"] == "failed", "a build used the worker's login for its FROM image"
    assert base in build["error"]
    assert "no basic auth credentials" in build["error"] or "401" in build["error"]
    log = client.get(f"/api/builds/{build['id']}/log").get_data(as_text=True)
    assert "borrowed-a-login" not in log
