"""Every pushed ref gets its tags, and a tag never moves back to an older commit (issue 10).

On the real stack: the real app, Redis, worker process, engine and registry. Pushes arrive
shuffled, from several threads, with late deliveries of old commits; the registry must end on
the newest commit's image, checked by digest and by a file read out of the pulled image.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.events import ZERO_SHA
from tests.conftest import commit_files, git, make_repo
from tests.forge_hooks import AUTH, Hook, make_hook
from tests.integration.conftest import (
    BASE_IMAGE,
    TERMINAL,
    RulesWriter,
    read_file_from_registry_image,
    registry_digest,
    rules_for,
    unique_image,
    wait_for_build,
)
from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.both_databases]
NAME = "it-order/app"
DOCKERFILE = f"FROM {BASE_IMAGE}\nCOPY marker.txt /marker.txt\n"


def push(ref: str, before: str | None, after: str, *, forced: bool = False,
         delivery: str | None = None, name: str = NAME) -> Hook:
    """GitHub's real push payload, rewritten to move `ref` from `before` to `after`, signed."""

    def moved(payload: dict[str, Any]) -> None:
        payload.update(before=before or ZERO_SHA, created=before is None, forced=forced)

    return make_hook("github/push-branch.json", name, ref=ref, commit=after, edit=moved,
                     delivery=delivery)


def history(tmp_path: Path, count: int) -> tuple[Path, Path, list[str]]:
    """A repository with `count` commits on main, each writing its number to marker.txt;
    returns (bare repository, working copy, commits oldest first)."""
    bare, first = make_repo(tmp_path / "src", {"Dockerfile": DOCKERFILE, "marker.txt": "0"})
    work = tmp_path / "src" / "work"
    commits = [first]
    for number in range(1, count):
        commits.append(commit_files(work, {"marker.txt": str(number)}, f"Commit {number}"))
    git("push", "-q", "origin", "main", cwd=work)
    return bare, work, commits


def builds_of(client: FlaskClient, name: str = NAME) -> list[dict[str, Any]]:
    """Every build of the repository, newest first."""
    return client.get(f"/api/builds?repository={name}&limit=200").get_json()["builds"]


def drained(client: FlaskClient, name: str = NAME) -> list[dict[str, Any]]:
    """The repository's builds once none is queued or running."""
    def all_ended() -> list[dict[str, Any]] | None:
        found = builds_of(client, name)
        return found if found and all(b["status"] in TERMINAL for b in found) else None

    return wait_until(all_ended, 300, f"every build of {name} ending", interval=0.5,
                      describe=lambda: str([(b["id"], b["status"]) for b in builds_of(client)]))


def post_all(app: Flask, hooks: list[Hook], threads: int) -> list[int]:
    """Post the hooks from `threads` threads at once; returns the status codes."""
    codes: list[int] = []
    lock = threading.Lock()
    chunks = [hooks[i::threads] for i in range(threads)]

    def send(chunk: list[Hook]) -> None:
        client = app.test_client()
        for hook in chunk:
            code = hook.post(client).status_code
            with lock:
                codes.append(code)

    workers = [threading.Thread(target=send, args=(chunk,)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return codes


def test_shuffled_concurrent_pushes_with_late_deliveries_end_on_the_newest_commit(
    live_app: tuple[Flask, RulesWriter], tmp_path: Path, docker_client: docker.DockerClient,
) -> None:
    app, write_rules = live_app
    bare, _, commits = history(tmp_path, 40)
    image = unique_image("order")
    write_rules(rules_for(NAME, f"file://{bare}", image))
    hooks = [push("refs/heads/main", commits[i - 1] if i else None, commit)
             for i, commit in enumerate(commits)]
    shuffled = random.Random(7).sample(hooks, len(hooks))
    late = [push("refs/heads/main", commits[i - 1], commits[i]) for i in (3, 11, 20)]
    redelivered = [push("refs/heads/main", commits[i - 1], commits[i],
                        delivery=hooks[i].delivery) for i in (5, 30)]

    codes = post_all(app, shuffled, threads=8)
    assert set(codes) == {202}, codes
    client = app.test_client()
    drained(client)
    codes = post_all(app, late + redelivered, threads=4)

    assert sorted(codes) == [200, 200, 202, 202, 202]  # two duplicates, three late pushes
    ended = drained(client)
    reference = f"{image}:latest"
    pushed = [b for b in ended if b["status"] == "success"]
    newest = [b for b in pushed if b["commit"] == commits[-1]]
    assert len(newest) == 1, [(b["commit"][:7], b["status"]) for b in ended]
    assert registry_digest(reference) == newest[0]["digest"]
    assert read_file_from_registry_image(docker_client, reference, "/marker.txt") == "39"
    assert len(pushed) <= 3, "a burst coalesces into very few real builds"
    late_ones = [b for b in ended if b["commit"] in {commits[3], commits[11], commits[20]}
                 and b["status"] != "success"]
    assert {b["status"] for b in late_ones} <= {"superseded", "skipped"}
    assert all("not moving the tags back" in (b["error"] or "") or b["superseded_by"]
               for b in late_ones)


def test_a_forced_push_back_to_a_built_commit_retags_it(
    live_app: tuple[Flask, RulesWriter], tmp_path: Path, docker_client: docker.DockerClient,
) -> None:
    app, write_rules = live_app
    bare, _, (first, second) = history(tmp_path, 2)
    image = unique_image("forced")
    write_rules(rules_for(NAME, f"file://{bare}", image))
    client = app.test_client()
    built_first = [wait_for_build(client, b["id"]) for b in
                   push("refs/heads/main", None, first).post(client).get_json()["builds"]]
    git("update-ref", "refs/heads/main", second, cwd=bare)
    for b in push("refs/heads/main", first, second).post(client).get_json()["builds"]:
        assert wait_for_build(client, b["id"])["status"] == "success"
    git("update-ref", "refs/heads/main", first, cwd=bare)  # the forced push back

    (back,) = push("refs/heads/main", second, first, forced=True).post(client).get_json()[
        "builds"]

    ended = wait_for_build(client, back["id"])
    assert ended["status"] == "success", ended["error"]
    assert ended["reused_from"] == built_first[0]["id"]
    assert ended["digest"] == built_first[0]["digest"] == registry_digest(f"{image}:latest")
    assert read_file_from_registry_image(docker_client, f"{image}:latest", "/marker.txt") == "0"
    log = client.get(f"/api/builds/{back['id']}/log").get_data(as_text=True)
    assert f"already built with the same inputs by build {built_first[0]['id']}" in log


def test_branches_and_tags_on_one_commit_each_get_their_tags_from_one_build(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
) -> None:
    app, write_rules = live_app
    bare, commit = source_repo()
    for ref in ("refs/heads/release-1", "refs/heads/release-2", "refs/tags/v1.2.3-rc.1",
                "refs/tags/v1.2.3"):
        git("update-ref", ref, commit, cwd=bare)
    image = unique_image("same-commit")
    rules = ("      - source_type: branch\n        source: /^release-/\n"
             "        tag: '{sourceref}'\n"
             "      - source_type: tag\n        source: /^v/\n        tag: '{sourceref}'\n")
    write_rules(rules_for(NAME, f"file://{bare}", image, rules))
    client = app.test_client()
    ended = {}
    for ref in ("refs/heads/release-1", "refs/heads/release-2", "refs/tags/v1.2.3-rc.1",
                "refs/tags/v1.2.3"):
        (queued,) = push(ref, None, commit).post(client).get_json()["builds"]
        ended[ref] = wait_for_build(client, queued["id"])
        assert ended[ref]["status"] == "success", (ref, ended[ref]["error"])

    assert ended["refs/heads/release-1"]["reused_from"] is None
    assert ended["refs/heads/release-2"]["reused_from"] == ended["refs/heads/release-1"]["id"]
    assert ended["refs/tags/v1.2.3-rc.1"]["reused_from"] is None, "another rule builds its own"
    assert ended["refs/tags/v1.2.3"]["reused_from"] == ended["refs/tags/v1.2.3-rc.1"]["id"]
    for ref, tag in (("refs/heads/release-2", "release-2"), ("refs/tags/v1.2.3", "v1.2.3")):
        assert registry_digest(f"{image}:{tag}") == ended[ref]["digest"]
    page = client.get(f"/builds/{ended['refs/tags/v1.2.3']['id']}").get_data(as_text=True)
    assert 'id="reused-from"' in page and ended["refs/tags/v1.2.3-rc.1"]["id"] in page


def test_a_retry_of_an_older_commit_is_refused_unless_confirmed(
    live_app: tuple[Flask, RulesWriter], tmp_path: Path, docker_client: docker.DockerClient,
) -> None:
    app, write_rules = live_app
    bare, _, (first, second) = history(tmp_path, 2)
    image = unique_image("retry")
    write_rules(rules_for(NAME, f"file://{bare}", image))
    client = app.test_client()
    git("update-ref", "refs/heads/main", first, cwd=bare)
    (old,) = push("refs/heads/main", None, first).post(client).get_json()["builds"]
    assert wait_for_build(client, old["id"])["status"] == "success"
    git("update-ref", "refs/heads/main", second, cwd=bare)
    (new,) = push("refs/heads/main", first, second).post(client).get_json()["builds"]
    assert wait_for_build(client, new["id"])["status"] == "success"

    refused = client.post(f"/api/builds/{old['id']}/retry", headers=AUTH)

    assert refused.status_code == 409
    assert refused.get_json()["error"] == (
        f"build {old['id']} is of commit {first[:7]}, but the tags of its rule for refs/heads/"
        f"main now hold the later push {second[:7]} (build {new['id']}); retrying would move "
        'latest back. Confirm to do it anyway (API: {"force": true}).')
    assert registry_digest(f"{image}:latest") == wait_for_build(client, new["id"])["digest"]

    confirmed = client.post(f"/api/builds/{old['id']}/retry", headers=AUTH,
                            json={"force": True})

    assert confirmed.status_code == 202
    (retried,) = confirmed.get_json()["builds"]
    ended = wait_for_build(client, retried["id"])
    assert ended["status"] == "success", ended["error"]
    assert registry_digest(f"{image}:latest") == ended["digest"]
    assert read_file_from_registry_image(docker_client, f"{image}:latest", "/marker.txt") == "0"


def test_tag_takeovers_are_said_in_the_log_and_on_the_page(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
) -> None:
    app, write_rules = live_app
    bare, commit = source_repo()
    for ref in ("refs/heads/v1.2.3", "refs/tags/v1.2.3", "refs/tags/v1.2.4"):
        git("update-ref", ref, commit, cwd=bare)
    image = unique_image("takeover")
    rules = ("      - source_type: branch\n        source: /^v/\n        tag: '{sourceref}'\n"
             "      - source_type: tag\n        source: /^v/\n"
             "        tag: '{sourceref},latest'\n")
    write_rules(rules_for(NAME, f"file://{bare}", image, rules))
    client = app.test_client()
    ended = {}
    for ref in ("refs/heads/v1.2.3", "refs/tags/v1.2.3", "refs/tags/v1.2.4"):
        (queued,) = push(ref, None, commit).post(client).get_json()["builds"]
        ended[ref] = wait_for_build(client, queued["id"])
        assert ended[ref]["status"] == "success", ended[ref]["error"]

    branch_id = ended["refs/heads/v1.2.3"]["id"]
    tag_log = client.get(f"/api/builds/{ended['refs/tags/v1.2.3']['id']}/log").get_data(
        as_text=True)
    assert (f"Warning: tag v1.2.3 moves from refs/heads/v1.2.3 (build {branch_id}, commit "
            f"{commit[:7]}) to refs/tags/v1.2.3") in tag_log
    release_log = client.get(f"/api/builds/{ended['refs/tags/v1.2.4']['id']}/log").get_data(
        as_text=True)
    assert "tag latest moves from refs/tags/v1.2.3" in release_log
    assert "Warning: tag latest" not in release_log
    page = client.get(f"/builds/{ended['refs/tags/v1.2.3']['id']}").get_data(as_text=True)
    assert 'id="takeovers"' in page and "<strong>Warning:</strong> <code>v1.2.3</code>" in page
    assert "was last pushed from <code>refs/heads/v1.2.3</code>" in page
