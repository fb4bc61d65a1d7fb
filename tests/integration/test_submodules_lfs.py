"""What a build fetches besides the commit, on the real stack: a private submodule over
authenticated git HTTP (its credentials never sent to another host), and Git LFS files."""

from __future__ import annotations

import uuid
from pathlib import Path

import docker
import pytest
from flask import Flask

from tests.conftest import SECRET
from tests.git_repos import LFS_POINTER_START, make_lfs_repo, submodule_hosts
from tests.integration.conftest import (
    AUTH,
    BASE_IMAGE,
    WORKER_SECRETS,
    RulesWriter,
    read_file_from_registry_image,
    unique_image,
    wait_for_build,
)

pytestmark = pytest.mark.integration


def rules(name: str, url: str, image: str, repository_keys: str, rule_keys: str) -> str:
    if url.startswith("http://"):  # the local git server speaks plain HTTP
        repository_keys += "    insecure_clone_url: true\n"
    return (f"repositories:\n  - name: {name}\n    provider: github\n    clone_url: {url}\n"
            f"    secret: {SECRET}\n    image: {image}\n{repository_keys}"
            "    rules:\n      - source_type: branch\n        source: main\n        tag: latest\n"
            f"{rule_keys}")


def build_main(app: Flask, name: str) -> dict[str, object]:
    client = app.test_client()
    answer = client.post("/api/builds", json={"repository": name, "ref": "main"}, headers=AUTH)
    assert answer.status_code == 202, answer.get_json()
    return wait_for_build(client, answer.get_json()["builds"][0]["id"])


def test_private_submodule_is_fetched_with_the_token_sent_to_its_host_only(
    live_app: tuple[Flask, RulesWriter], tmp_path: Path, docker_client: docker.DockerClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, write_rules = live_app
    token = WORKER_SECRETS["AUTOBUILD_IT_GIT_TOKEN"]
    monkeypatch.setenv("AUTOBUILD_IT_GIT_TOKEN", token)  # Build now's ls-remote, in this process
    dockerfile = (f"FROM {BASE_IMAGE}\nCOPY . /src\n"
                  "RUN cat /src/lib/lib.txt /src/vendor/vendor.txt\n")
    image = unique_image("submodules")
    with submodule_hosts(tmp_path, token, files={"Dockerfile": dockerfile}) as hosts:
        url, private, public, _ = hosts
        write_rules(rules("it/submodules", url, image,
                          "    git_auth: {username: x-access-token, "
                          "token: '${AUTOBUILD_IT_GIT_TOKEN}'}\n",
                          "        submodules: true\n"))

        build = build_main(app, "it/submodules")

    assert build["status"] == "success", build["error"]
    assert read_file_from_registry_image(docker_client, f"{image}:latest",
                                         "/src/lib/lib.txt") == "private library\n"
    assert private.seen_authorization.count(private.expected) >= 3  # ls-remote, fetch, lib
    assert public.seen_authorization and set(public.seen_authorization) == {""}
    log = app.test_client().get(f"/api/builds/{build['id']}/log").get_data(as_text=True)
    assert "public vendor" in log and token not in log


def test_lfs_files_are_in_the_image_not_their_pointers(
    live_app: tuple[Flask, RulesWriter], tmp_path: Path, docker_client: docker.DockerClient,
) -> None:
    app, write_rules = live_app
    content = f"weights {uuid.uuid4().hex}\n" * 200
    bare, _ = make_lfs_repo(tmp_path / "lfs", {
        "Dockerfile": f"FROM {BASE_IMAGE}\nCOPY model.bin /model.bin\n"}, {"model.bin": content})
    image = unique_image("lfs")
    write_rules(rules("it/lfs", f"file://{bare}", image, "", "        lfs: true\n"))

    build = build_main(app, "it/lfs")

    assert build["status"] == "success", build["error"]
    in_image = read_file_from_registry_image(docker_client, f"{image}:latest", "/model.bin")
    assert in_image == content and not in_image.startswith(LFS_POINTER_START)
    log = app.test_client().get(f"/api/builds/{build['id']}/log").get_data(as_text=True)
    assert "Fetching Git LFS objects (the rule sets lfs: true)" in log
