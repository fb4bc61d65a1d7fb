"""Docker Hub hooks run in Docker Hub's order with its environment, only when allowed."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import API_TOKEN
from tests.integration.conftest import RulesWriter, rules_for, unique_image, wait_for_build

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
ECHO = "#!/bin/sh\necho \"hook=$(basename $0)\"\n"
FILES = {
    # a nonce label before the RUN step keeps it out of the engine's layer cache
    "docker/Dockerfile": ("FROM local/busybox:latest\nLABEL test.nonce=NONCE\n"
                          "ARG FLAVOUR=default\n"
                          "RUN echo \"flavour=$FLAVOUR\"\n"),
    "docker/hooks/post_checkout": (
        "#!/bin/sh\necho \"hook=post_checkout branch=$SOURCE_BRANCH commit=$SOURCE_COMMIT "
        "repo=$DOCKER_REPO tag=$DOCKER_TAG image=$IMAGE_NAME cache=$CACHE_TAG "
        "dockerfile=$DOCKERFILE_PATH cwd=$(basename $(pwd))\"\n"),
    "docker/hooks/pre_build": ECHO,
    "docker/hooks/build": ("#!/bin/sh\necho hook=build\n"
                           "docker build --build-arg FLAVOUR=from-hook "
                           "-f \"$DOCKERFILE_PATH\" -t \"$IMAGE_NAME\" .\n"),
    "docker/hooks/post_build": ECHO,
    "docker/hooks/pre_push": ECHO,
    "docker/hooks/post_push": ECHO,
}
RULE = ("      - source_type: branch\n        source: main\n        tag: stable\n"
        "        context: docker\n        dockerfile: Dockerfile\n")


def files(**changes: str) -> dict[str, str]:
    """The hooks repository, with a fresh nonce in its Dockerfile."""
    content = {**FILES, **changes}
    content["docker/Dockerfile"] = content["docker/Dockerfile"].replace("NONCE", uuid.uuid4().hex)
    return content


def run(app: Flask, write_rules: RulesWriter, bare: Path, image: str, *, hooks: bool
        ) -> tuple[dict[str, object], str]:
    text = rules_for("it/hooks", f"file://{bare}", image, RULE)
    write_rules(text.replace("    rules:\n", f"    hooks: {str(hooks).lower()}\n    rules:\n"))
    client = app.test_client()
    queued = client.post("/api/builds", json={"repository": "it/hooks", "ref": "main"},
                         headers=AUTH).get_json()["builds"][0]
    build = wait_for_build(client, queued["id"])
    return build, client.get(f"/api/builds/{build['id']}/log").get_data(as_text=True)


def test_hooks_run_in_order_with_docker_hub_environment(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
) -> None:
    app, write_rules = live_app
    bare, commit = source_repo(files())
    image = unique_image("hooks")

    build, log = run(app, write_rules, bare, image, hooks=True)

    assert build["status"] == "success", build["error"]
    assert re.findall(r"^hook=(\w+)", log, re.MULTILINE) == [
        "post_checkout", "pre_build", "build", "post_build", "pre_push", "post_push"]
    assert (f"hook=post_checkout branch=main commit={commit} repo={image} tag=stable "
            f"image={image}:stable cache=stable dockerfile=Dockerfile cwd=docker") in log
    assert "flavour=from-hook" in log


def test_hooks_do_not_run_unless_the_repository_allows_them(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
) -> None:
    app, write_rules = live_app
    bare, _ = source_repo(files())

    build, log = run(app, write_rules, bare, unique_image("nohooks"), hooks=False)

    assert build["status"] == "success", build["error"]
    assert "hook=" not in log
    assert "Not running hooks/" in log and "flavour=default" in log


def test_failing_hook_fails_the_build_with_its_name(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
) -> None:
    app, write_rules = live_app
    failing = "#!/bin/sh\necho checking-prerequisites\nexit 7\n"
    bare, _ = source_repo(files(**{"docker/hooks/pre_build": failing}))

    build, log = run(app, write_rules, bare, unique_image("badhook"), hooks=True)

    assert build["status"] == "failed"
    assert build["error"] == "the pre_build hook failed with exit code 7"
    assert "checking-prerequisites" in log and "hook=build" not in log
