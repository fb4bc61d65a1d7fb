"""Docker Hub hooks run in Docker Hub's order with its environment, only when allowed."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from flask import Flask

from tests.conftest import API_TOKEN
from tests.integration.conftest import (
    WORKER_SECRETS,
    RulesWriter,
    registry_digest,
    rules_for,
    unique_image,
    wait_for_build,
)

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


def run(app: Flask, write_rules: RulesWriter, bare: Path, image: str, *, hooks: bool,
        keys: str = "") -> tuple[dict[str, object], str]:
    """Build main with these extra repository `keys`; (the build, its log)."""
    text = rules_for("it/hooks", f"file://{bare}", image, RULE)
    write_rules(text.replace("    rules:\n",
                             f"    hooks: {str(hooks).lower()}\n{keys}    rules:\n"))
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


def default_build(content: dict[str, str]) -> dict[str, str]:
    """The repository without hooks/build: the default build step runs."""
    return {name: text for name, text in content.items() if name != "docker/hooks/build"}


TESTS = {
    "docker/hooks/pre_test": ECHO,
    "docker/hooks/test": ("#!/bin/sh\necho hook=test\n"
                          "docker run --rm --network none \"$IMAGE_NAME\" "
                          "sh -c 'test \"$(cat /flavour)\" = default' && echo image-tested\n"),
    "docker/hooks/post_test": ECHO,
    "docker/Dockerfile": ("FROM local/busybox:latest\nLABEL test.nonce=NONCE\n"
                          "RUN echo default > /flavour\n"),
}


def test_test_hooks_run_between_post_build_and_pre_push(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
) -> None:
    app, write_rules = live_app
    bare, _ = source_repo(default_build(files(**TESTS)))
    image = unique_image("testhooks")

    build, log = run(app, write_rules, bare, image, hooks=True)

    assert build["status"] == "success", build["error"]
    assert re.findall(r"^hook=(\w+)", log, re.MULTILINE) == [
        "post_checkout", "pre_build", "post_build", "pre_test", "test", "post_test", "pre_push",
        "post_push"]
    assert "image-tested" in log
    assert registry_digest(f"{image}:stable") == build["digest"]


def test_a_failing_test_hook_fails_the_build_and_pushes_nothing(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
) -> None:
    app, write_rules = live_app
    failing = "#!/bin/sh\necho hook=test\necho 'expected 3 widgets, found 2'\nexit 1\n"
    bare, _ = source_repo(default_build(files(**TESTS | {"docker/hooks/test": failing})))
    image = unique_image("failtest")

    build, log = run(app, write_rules, bare, image, hooks=True)

    assert build["status"] == "failed"
    assert build["error"] == "the test hook failed with exit code 1"
    assert "expected 3 widgets, found 2" in log
    assert re.findall(r"^hook=(\w+)", log, re.MULTILINE)[-2:] == ["pre_test", "test"]
    host, _, path = image.partition("/")
    answer = requests.head(f"http://{host}/v2/{path}/manifests/stable", timeout=10)
    assert answer.status_code == 404  # no tag was pushed


def test_env_reaches_the_hooks_and_secret_values_are_masked(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
) -> None:
    app, write_rules = live_app
    secret = WORKER_SECRETS["AUTOBUILD_IT_GREETING"]
    hook = ("#!/bin/sh\necho \"hook=post_checkout stage=$STAGE flavour=$FLAVOUR "
            f"token=$API_TOKEN\"\ntest \"$API_TOKEN\" = {secret} && echo token-arrived\n")
    bare, _ = source_repo(files(**{"docker/hooks/post_checkout": hook}))
    keys = ("    env: {STAGE: production, FLAVOUR: plain, API_TOKEN: '${AUTOBUILD_IT_GREETING}'}\n"
            "    secret_env: [API_TOKEN]\n")

    build, log = run(app, write_rules, bare, unique_image("env"), hooks=True, keys=keys)

    assert build["status"] == "success", build["error"]
    assert "hook=post_checkout stage=production flavour=plain token=***" in log
    assert "token-arrived" in log
    client = app.test_client()
    stored = [client.get(f"/api/builds/{build['id']}").get_data(as_text=True), log,
              client.get("/repos/it/hooks").get_data(as_text=True)]
    assert not any(secret in text for text in stored)
