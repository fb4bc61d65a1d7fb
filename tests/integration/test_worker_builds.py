"""What workers make: coalesced bursts, reused mirrors and layers, labels, contained paths."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import docker
import pytest
from flask import Flask

from core.signatures import sign_github
from records.schema import builds
from tests.conftest import API_TOKEN, SECRET, commit_files, git
from tests.core.fixtures import FIXTURES_DIR
from tests.integration.buildkit_support import forget_step_cache, step_number
from tests.integration.conftest import (
    RulesWriter,
    main_rule,
    push_delivery,
    read_file_from_registry_image,
    rules_for,
    unique_image,
    wait_for_build,
)

pytestmark = [pytest.mark.integration, pytest.mark.both_databases]
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def test_burst_of_pushes_builds_at_most_two_and_ends_with_the_last_commit(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    docker_client: docker.DockerClient,
) -> None:
    app, write_rules = live_app
    slow = "FROM local/busybox:latest\nCOPY . /src\nRUN sleep 2\n"
    bare, first = source_repo({"Dockerfile": slow})
    work = bare.parent / "work"
    image = unique_image("burst")
    write_rules(rules_for("it/burst", f"file://{bare}", image))
    client = app.test_client()
    commits = [first]
    for number in range(9):
        commits.append(commit_files(work, {"marker.txt": f"commit-{number}"}, f"c{number}"))
    git("push", "-q", "origin", "main", cwd=work)

    ids = []
    for number, commit in enumerate(commits):
        before = commits[number - 1] if number else "0" * 40
        answer = push_delivery(client, "it/burst", "refs/heads/main", before, commit,
                               f"burst-{commit}")
        ids.extend(b["id"] for b in answer["builds"])  # type: ignore[union-attr]

    assert len(ids) == 10
    last = wait_for_build(client, ids[-1])
    assert last["status"] == "success", last["error"]
    builds = [client.get(f"/api/builds/{i}").get_json() for i in ids]
    # A build may start and then hand over to a newer commit that arrived meanwhile, so the
    # bound is on images built: the first commit's and the last one's at most.
    built = [b["commit"] for b in builds if b["status"] == "success"]
    assert len(built) <= 2 and built[-1] == commits[-1]
    superseded = [b for b in builds if b["status"] == "superseded"]
    assert len(superseded) == len(builds) - len(built)
    assert all(b["superseded_by"] in ids for b in superseded)
    assert read_file_from_registry_image(docker_client, f"{image}:latest",
                                         "/src/marker.txt") == "commit-8"


@pytest.mark.parametrize("builder", ["buildkit", "classic"])
def test_second_build_fetches_into_the_mirror_and_reuses_layers(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    builder: str,
) -> None:
    app, write_rules = live_app
    step = f"RUN echo expensive-step-{uuid.uuid4().hex} > /step.txt"
    dockerfile = f"FROM local/busybox:latest\n{step}\nCOPY marker.txt /marker.txt\n"
    bare, _ = source_repo({"Dockerfile": dockerfile})
    work = bare.parent / "work"
    write_rules(rules_for("it/cache", f"file://{bare}", unique_image("cache"),
                          main_rule(builder=builder)))
    client = app.test_client()
    first = client.post("/api/builds", json={"repository": "it/cache", "ref": "main"},
                        headers=AUTH).get_json()["builds"][0]
    assert wait_for_build(client, first["id"])["status"] == "success"
    first_log = client.get(f"/api/builds/{first['id']}/log").get_data(as_text=True)
    commit_files(work, {"marker.txt": "second"}, "second")
    git("push", "-q", "origin", "main", cwd=work)

    second = client.post("/api/builds", json={"repository": "it/cache", "ref": "main"},
                         headers=AUTH).get_json()["builds"][0]
    assert wait_for_build(client, second["id"])["status"] == "success"

    second_log = client.get(f"/api/builds/{second['id']}/log").get_data(as_text=True)
    assert "into a new mirror" in first_log
    assert "into a new mirror" not in second_log
    assert "Fetching new commits" in second_log
    assert step_reused(second_log, step, builder)
    assert not step_reused(first_log, step, builder)


def step_reused(log: str, step: str, builder: str) -> bool:
    """Whether the build whose log this is took `step` (the Dockerfile's second line) from
    the layer cache: BuildKit's `#N CACHED`, the classic builder's "Using cache"."""
    if builder == "buildkit":
        return f"{step_number(log, f'[2/3] {step}')} CACHED" in log.splitlines()
    return "Using cache" in log.split(step)[1].split("Step ")[0]


def test_pushed_image_carries_oci_and_rule_labels(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    docker_client: docker.DockerClient,
) -> None:
    app, write_rules = live_app
    bare, commit = source_repo()
    image = unique_image("labels")
    rules = ("      - source_type: branch\n        source: main\n        tag: \"v1,latest\"\n"
             "        labels: {org.example.team: platform}\n")
    write_rules(rules_for("it/labels", f"file://{bare}", image, rules))
    client = app.test_client()
    queued = client.post("/api/builds", json={"repository": "it/labels", "ref": "main"},
                         headers=AUTH).get_json()["builds"][0]
    assert wait_for_build(client, queued["id"])["status"] == "success"

    docker_client.images.remove(f"{image}:v1", force=True)
    labels = docker_client.images.pull(f"{image}:v1").labels
    assert labels["org.opencontainers.image.revision"] == commit
    assert labels["org.opencontainers.image.version"] == "v1"
    assert labels["org.opencontainers.image.source"] == f"file://{bare}"
    assert labels["org.opencontainers.image.created"].endswith("Z")
    assert labels["org.example.team"] == "platform"


@pytest.mark.parametrize("layout", [
    pytest.param({"dockerfile": "docker/Dockerfile", "link": ("docker", "/etc")},
                 id="context-symlink-to-etc"),
    pytest.param({"dockerfile": "Dockerfile.prod", "link": ("Dockerfile.prod", "/etc/hostname")},
                 id="dockerfile-symlink-outside"),
])
def test_symlink_escaping_the_checkout_fails_the_build(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    layout: dict[str, object],
) -> None:
    app, write_rules = live_app
    bare, _ = source_repo()
    work = bare.parent / "work"
    name, target = layout["link"]  # type: ignore[misc]
    os.symlink(target, work / name)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "escape", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    context = "docker" if name == "docker" else "/"
    rules = (f"      - source_type: branch\n        source: main\n        tag: latest\n"
             f"        context: {context}\n"
             f"        dockerfile: {'Dockerfile' if name == 'docker' else name}\n")
    write_rules(rules_for("it/escape", f"file://{bare}", unique_image("escape"), rules))
    client = app.test_client()
    queued = client.post("/api/builds", json={"repository": "it/escape", "ref": "main"},
                         headers=AUTH).get_json()["builds"][0]
    build = wait_for_build(client, queued["id"])
    assert build["status"] == "failed"
    assert "resolves outside the repository checkout" in build["error"]
    assert build["digest"] is None


@pytest.mark.parametrize(("changed", "status"), [
    pytest.param({"docs/guide.md": "words"}, "skipped", id="only-docs-changed"),
    pytest.param({"svc-a/main.txt": "code"}, "success", id="service-changed"),
])
def test_worker_applies_path_filter_when_payload_lists_no_files(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    changed: dict[str, str], status: str,
) -> None:
    app, write_rules = live_app
    bare, first = source_repo({"svc-a/main.txt": "v1"})
    work = bare.parent / "work"
    second = commit_files(work, changed, "change")
    git("push", "-q", "origin", "main", cwd=work)
    rules = ("      - source_type: branch\n        source: main\n        tag: latest\n"
             "        included_files: ['svc-a/**']\n")
    write_rules(rules_for("it/paths", f"file://{bare}", unique_image("paths"), rules))
    client = app.test_client()
    payload = json.loads((FIXTURES_DIR / "github/push-force.json").read_bytes())
    payload["repository"]["full_name"] = "it/paths"
    payload.update(ref="refs/heads/main", before=first, after=second, forced=True)
    body = json.dumps(payload).encode()

    answer = client.post("/hooks/github", data=body, headers={
        "X-GitHub-Event": "push", "X-GitHub-Delivery": f"paths-{second}",
        "Content-Type": "application/json", "X-Hub-Signature-256": sign_github(body, SECRET)})

    assert answer.status_code == 202, answer.get_json()
    build = wait_for_build(client, answer.get_json()["builds"][0]["id"])
    assert build["status"] == status, build["error"]
    if status == "skipped":
        assert "included_files" in build["error"]
        log = client.get(f"/api/builds/{build['id']}/log").get_data(as_text=True)
        assert "Skipped:" in log


def test_annotated_tag_push_labels_the_commit_not_the_tag_object(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    docker_client: docker.DockerClient,
) -> None:
    app, write_rules = live_app
    bare, commit = source_repo()
    work = bare.parent / "work"
    git("tag", "-a", "v3.1.4", "-m", "release", cwd=work)
    git("push", "-q", "origin", "v3.1.4", cwd=work)
    tag_object = git("rev-parse", "v3.1.4", cwd=work)
    assert tag_object != commit
    image = unique_image("annotated")
    rules = ("      - source_type: tag\n        source: /^v/\n"
             "        tag: \"{version},{major}.{minor}\"\n")
    write_rules(rules_for("it/annotated", f"file://{bare}", image, rules))
    client = app.test_client()

    answer = push_delivery(client, "it/annotated", "refs/tags/v3.1.4", "0" * 40, tag_object,
                           f"annotated-{tag_object}")

    build = wait_for_build(client, answer["builds"][0]["id"])  # type: ignore[index]
    assert build["status"] == "success", build["error"]
    assert build["tags"] == [f"{image}:3.1.4", f"{image}:3.1"]
    docker_client.images.remove(f"{image}:3.1", force=True)
    labels = docker_client.images.pull(f"{image}:3.1").labels
    assert labels["org.opencontainers.image.revision"] == commit


@pytest.mark.parametrize("builder", ["buildkit", "classic"])
def test_pruned_images_come_back_from_the_registry_as_layer_cache(
    isolated_stack: Callable[..., tuple[object, RulesWriter, object]],
    source_repo: Callable[..., tuple[Path, str]], docker_client: docker.DockerClient,
    builder: str,
) -> None:
    client, write_rules, _ = isolated_stack(3, AUTOBUILD_PRUNE_IMAGES="true")
    marker = uuid.uuid4().hex
    step = f"RUN echo expensive-{marker} > /step.txt"
    dockerfile = f"FROM local/busybox:latest\n{step}\nCOPY marker.txt /marker.txt\n"
    bare, _ = source_repo({"Dockerfile": dockerfile})
    work = bare.parent / "work"
    image = unique_image("prune")
    write_rules(rules_for("it/prune", f"file://{bare}", image, main_rule(builder=builder)))
    body = {"repository": "it/prune", "ref": "main"}
    first = client.post("/api/builds", json=body, headers=AUTH).get_json()  # type: ignore[attr-defined]
    assert wait_for_build(client, first["builds"][0]["id"])["status"] == "success"  # type: ignore[arg-type]
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get(f"{image}:latest")
    if builder == "buildkit":  # and the engine's own build cache of the step: only the
        forget_step_cache(docker_client, marker)  # registry's inline cache is left
    commit_files(work, {"marker.txt": "changed"}, "change")
    git("push", "-q", "origin", "main", cwd=work)

    second = client.post("/api/builds", json=body, headers=AUTH).get_json()  # type: ignore[attr-defined]
    build = wait_for_build(client, second["builds"][0]["id"])  # type: ignore[arg-type]

    assert build["status"] == "success", build["error"]
    log = client.get(f"/api/builds/{build['id']}/log").get_data(as_text=True)  # type: ignore[attr-defined]
    if builder == "buildkit":
        assert f"importing cache manifest from {image}:latest" in log
    else:
        assert f"Pulled the previous image {image}:latest to use as layer cache" in log
    assert step_reused(log, step, builder)


def test_secret_build_args_are_masked_in_the_log(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
) -> None:
    app, write_rules = live_app
    dockerfile = ("FROM local/busybox:latest\nCOPY marker.txt /marker.txt\nARG GREETING\n"
                  "RUN echo \"greeting is $GREETING\"\n")
    bare, _ = source_repo({"Dockerfile": dockerfile})
    rules = ("      - source_type: branch\n        source: main\n        tag: latest\n"
             "        build_args: {GREETING: \"${AUTOBUILD_IT_GREETING}\"}\n"
             "        secret_build_args: [GREETING]\n")
    write_rules(rules_for("it/secret-args", f"file://{bare}", unique_image("args"), rules))
    client = app.test_client()
    queued = client.post("/api/builds", json={"repository": "it/secret-args", "ref": "main"},
                         headers=AUTH).get_json()["builds"][0]
    build = wait_for_build(client, queued["id"])
    assert build["status"] == "success", build["error"]
    log = client.get(f"/api/builds/{build['id']}/log").get_data(as_text=True)
    assert "greeting is ***" in log and "open-sesame-42" not in log
    with app.extensions["build_store"].engine.connect() as conn:
        stored = conn.execute(builds.select().where(builds.c.id == build["id"])).mappings().one()
    assert "open-sesame-42" not in json.dumps(dict(stored), default=str)
    assert "AUTOBUILD_IT_GREETING" in stored["plan"]
