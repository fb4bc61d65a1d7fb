"""Base images change, images follow: a registry with notifications pointing at the live web
process rebuilds the rules built from a pushed base, down a cascade, once each, and shows a
cycle instead of looping; on the real engine, BuildKit and classic builders and worker."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
from flask.testing import FlaskClient

from tests.integration.conftest import AUTH, BUILD_DEADLINE, main_rule, rules_for, wait_for_build
from tests.integration.rebuild_support import (
    REGISTRY_TOKEN,
    NotifyingStack,
    layers,
    notifying_stack,  # noqa: F401 - the fixture
    push_base,
)
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
TYPE = "application/vnd.docker.distribution.events.v1+json"


def build_now(client: FlaskClient, repository: str) -> dict[str, Any]:
    """Build now of main, waited for; it must succeed."""
    answer = client.post("/api/builds", json={"repository": repository, "ref": "main"},
                         headers=AUTH)
    assert answer.status_code == 202, answer.get_json()
    build = wait_for_build(client, answer.get_json()["builds"][0]["id"])
    assert build["status"] == "success", build["error"]
    return build


def rebuilds(client: FlaskClient, repository: str) -> list[dict[str, Any]]:
    """The repository's base_image builds, newest first."""
    answer = client.get(f"/api/builds?repository={repository}&trigger=base_image")
    return list(answer.get_json()["builds"])


def rebuilt(client: FlaskClient, repository: str) -> dict[str, Any]:
    """The repository's one rebuild, once it ended."""
    found = wait_until(lambda: rebuilds(client, repository), BUILD_DEADLINE,
                       f"a base_image build of {repository}", interval=0.3)
    return wait_for_build(client, found[-1]["id"])


def entry(name: str, bare: Path, image: str, **rule: str) -> str:
    """One repository of a rules file, building main → latest."""
    return rules_for(name, f"file://{bare}", image, main_rule(**rule)).removeprefix(
        "repositories:\n")


def drained(client: FlaskClient, *repositories: str) -> bool:
    """Whether none of these repositories has a build queued or running."""
    return all(b["status"] in ("success", "failed", "cancelled", "timed_out", "superseded",
                               "skipped")
               for name in repositories
               for b in client.get(f"/api/builds?repository={name}").get_json()["builds"])


def test_a_pushed_base_rebuilds_the_rule_from_the_new_base(
        notifying_stack: NotifyingStack,  # noqa: F811
        source_repo: Callable[..., tuple[Path, str]], docker_client: docker.DockerClient,
) -> None:
    stack = notifying_stack
    prefix = f"one-{uuid.uuid4().hex[:8]}"
    base = f"{stack.registry}/{prefix}/base:latest"
    first_base = push_base(docker_client, base)
    bare, _ = source_repo({"Dockerfile": f"FROM {base}\nCOPY marker.txt /app-marker\n"})
    image = f"{stack.registry}/{prefix}/app"
    stack.write_rules("repositories:\n" + entry("it/rebuilt", bare, image))
    client = stack.app.test_client()
    first = build_now(client, "it/rebuilt")
    assert first["bases"] == [{"reference": base, "digest": first_base}]

    new_base = push_base(docker_client, base)
    rebuild = rebuilt(client, "it/rebuilt")

    assert rebuild["status"] == "success", rebuild["error"]
    assert rebuild["reason"] == (f"base image {base} changed from {first_base} to {new_base} "
                                 "(told by the registry)")
    assert (rebuild["commit"], rebuild["ref"]) == (first["commit"], "refs/heads/main")
    assert rebuild["bases"] == [{"reference": base, "digest": new_base}]
    base_layers = layers(base)
    assert layers(f"{image}:latest")[:len(base_layers)] == base_layers
    assert layers(f"{image}:latest")[:len(base_layers)] != first_layers_of(first_base, base)
    log = client.get(f"/api/builds/{rebuild['id']}/log").get_data(as_text=True)
    assert f"Base image {base}: {new_base}" in log
    page = client.get(f"/builds/{rebuild['id']}").get_data(as_text=True)
    assert "base image" in page and new_base in page and first_base in page


def first_layers_of(digest: str, base: str) -> list[str]:
    """The layers of the base's earlier version, by its digest."""
    repository = base.rpartition(":")[0]
    host, _, path = repository.partition("/")
    answer = requests.get(f"http://{host}/v2/{path}/manifests/{digest}", timeout=10, headers={
        "Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    answer.raise_for_status()
    return [layer["digest"] for layer in answer.json()["layers"]]


def test_a_three_level_cascade_rebuilds_each_level_once(
        notifying_stack: NotifyingStack,  # noqa: F811
        source_repo: Callable[..., tuple[Path, str]], docker_client: docker.DockerClient,
) -> None:
    """upstream → base → runtime → app: a new upstream rebuilds base, whose push rebuilds
    runtime (with the classic builder), whose push rebuilds app; each once."""
    stack = notifying_stack
    prefix = f"cascade-{uuid.uuid4().hex[:8]}"
    upstream = f"{stack.registry}/{prefix}/upstream:latest"
    images = {level: f"{stack.registry}/{prefix}/{level}" for level in ("base", "runtime",
                                                                          "app")}
    push_base(docker_client, upstream)
    parents = {"base": upstream, "runtime": f"{images['base']}:latest",
               "app": f"{images['runtime']}:latest"}
    repos = {level: source_repo({"Dockerfile": f"FROM {parent}\nCOPY marker.txt /{level}\n"})[0]
             for level, parent in parents.items()}
    stack.write_rules("repositories:\n" + "".join(
        entry(f"it/{level}", repos[level], images[level],
              **({"builder": "classic"} if level == "runtime" else {}))
        for level in images))
    client = stack.app.test_client()
    first = {level: build_now(client, f"it/{level}") for level in images}

    new_upstream = push_base(docker_client, upstream)
    again = {level: rebuilt(client, f"it/{level}") for level in images}
    wait_until(lambda: drained(client, *(f"it/{level}" for level in images)), BUILD_DEADLINE,
               "the cascade settling")

    assert {level: len(rebuilds(client, f"it/{level}")) for level in images} == {
        "base": 1, "runtime": 1, "app": 1}
    assert {level: b["status"] for level, b in again.items()} == dict.fromkeys(images,
                                                                               "success")
    origin = f"base:{upstream}@{new_upstream}"
    assert {b["cause"]["origin"] for b in again.values()} == {origin}
    assert [r["repository"] for r in again["app"]["cause"]["chain"]] == [
        "it/base", "it/runtime", "it/app"]
    for level, parent in parents.items():
        (used,) = again[level]["bases"]
        pushed = new_upstream if level == "base" else again[
            "base" if level == "runtime" else "runtime"]["digest"]
        assert used == {"reference": parent, "digest": pushed}
        (before,) = first[level]["bases"]
        assert before["digest"] != pushed
    assert again["app"]["reason"] == (
        f"base image {parents['app']} changed from {first['runtime']['digest']} to "
        f"{again['runtime']['digest']} (told by the registry), after it/runtime rule 1 (main) "
        "was rebuilt")
    assert again["runtime"]["builder"] == "classic"


def test_a_cycle_is_detected_and_shown_instead_of_looping(
        notifying_stack: NotifyingStack,  # noqa: F811
        source_repo: Callable[..., tuple[Path, str]], docker_client: docker.DockerClient,
) -> None:
    """a is FROM b and b is FROM a: b's push rebuilds a once, and a's push would rebuild b
    again for the same change: that is shown as a cycle, and nothing more is built."""
    stack = notifying_stack
    prefix = f"cycle-{uuid.uuid4().hex[:8]}"
    image_a, image_b = (f"{stack.registry}/{prefix}/{n}" for n in ("a", "b"))
    for image in (image_a, image_b):
        push_base(docker_client, f"{image}:latest")  # the first versions, made by hand
    repo_a, _ = source_repo({"Dockerfile": f"FROM {image_b}:latest\nCOPY marker.txt /a\n"})
    repo_b, _ = source_repo({"Dockerfile": f"FROM {image_a}:latest\nCOPY marker.txt /b\n"})
    stack.write_rules("repositories:\n" + entry("it/cycle-a", repo_a, image_a)
                      + entry("it/cycle-b", repo_b, image_b))
    client = stack.app.test_client()
    build_now(client, "it/cycle-a")

    b = build_now(client, "it/cycle-b")  # its push changes a's base
    a_again = rebuilt(client, "it/cycle-a")

    def cycle() -> dict[str, Any] | None:
        events = client.get("/api/rebuilds?repository=it/cycle-b").get_json()["rebuilds"]
        return next((d for e in events for d in e["decisions"] if d["verdict"] == "cycle"),
                    None)

    found = wait_until(cycle, BUILD_DEADLINE, "the cycle being recorded", interval=0.3)
    wait_until(lambda: drained(client, "it/cycle-a", "it/cycle-b"), BUILD_DEADLINE,
               "the builds settling")
    assert a_again["status"] == "success"
    assert a_again["cause"]["origin"] == f"base:{image_b}:latest@{b['digest']}"
    assert (len(rebuilds(client, "it/cycle-a")), len(rebuilds(client, "it/cycle-b"))) == (1, 0)
    assert found["reason"] == ("cycle: it/cycle-b rule 1 (main) → it/cycle-a rule 1 (main) → "
                               "it/cycle-b rule 1 (main); not rebuilding it/cycle-b rule 1 "
                               "(main) again for the same change")
    repository_page = client.get("/repos/it/cycle-b").get_data(as_text=True)
    assert "verdict-cycle" in repository_page and "cycle: it/cycle-b rule 1" in repository_page
    build_page = client.get(f"/builds/{a_again['id']}").get_data(as_text=True)
    assert "What its pushes rebuilt" in build_page and "verdict-cycle" in build_page


@pytest.mark.parametrize(("headers", "body", "status"), [
    ({}, b'{"events": []}', 401),
    ({"Authorization": "Bearer wrong"}, b'{"events": []}', 401),
    ({"Authorization": f"Bearer {REGISTRY_TOKEN}"}, b'{"events": [', 400),
    ({"Authorization": f"Bearer {REGISTRY_TOKEN}"}, b'{"events": []}' + b" " * (1 << 20), 413),
], ids=["unauthenticated", "wrong-token", "malformed", "oversized"])
def test_refused_notifications_rebuild_nothing(
        notifying_stack: NotifyingStack,  # noqa: F811
        headers: dict[str, str], body: bytes, status: int) -> None:
    stack = notifying_stack
    client = stack.app.test_client()
    before = client.get("/api/rebuilds?limit=200").get_json()["rebuilds"]
    builds_before = client.get("/api/builds?limit=200").get_json()["builds"]
    answer = requests.post(f"{stack.server_url}/hooks/registry", data=body, timeout=10,
                           headers={"Content-Type": TYPE, **headers})

    assert answer.status_code == status, answer.text
    assert client.get("/api/rebuilds?limit=200").get_json()["rebuilds"] == before
    assert client.get("/api/builds?limit=200").get_json()["builds"] == builds_before
