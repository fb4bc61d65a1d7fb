"""Cancel, timeout and lost workers on the real stack: no build is left unexplained."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import docker
import pytest
from flask import Flask
from flask.testing import FlaskClient

from records.db import utcnow
from records.schema import builds
from service import janitor
from tests.conftest import API_TOKEN
from tests.factories import make_plan
from tests.integration.buildkit_support import is_running, parent_pid, processes_with
from tests.integration.conftest import (
    RulesWriter,
    container_exists,
    main_rule,
    rules_for,
    unique_image,
    wait_for_build,
    wait_for_log,
)
from tests.waiting import wait_until
from workers.docker_cli import DOCKER_CLI

pytestmark = [pytest.mark.integration, pytest.mark.both_databases]
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
SLEEPER = "FROM local/busybox:latest\nRUN echo sleeping-now && sleep 300\n"


def unique_sleeper() -> tuple[str, str]:
    """(a Dockerfile whose RUN step sleeps a unique number of seconds, that number)."""
    seconds = str(30000 + uuid.uuid4().int % 9999)
    return f"FROM local/busybox:latest\nRUN echo sleeping-now && sleep {seconds}\n", seconds


def assert_buildkit_step_gone(docker_client: docker.DockerClient, build_id: str,
                              seconds: str, deadline: float) -> None:
    """No docker CLI of the build, no process of its RUN step or its runc, no container."""
    runc = [parent_pid(pid) for pid in processes_with("sleep\0", seconds)]
    wait_until(lambda: not processes_with(DOCKER_CLI, build_id), deadline,
               "the build's docker CLI ending")
    wait_until(lambda: not [p for p in processes_with("sleep\0", seconds) if is_running(p)],
               deadline, "the RUN step's process ending")
    wait_until(lambda: not [p for p in runc if is_running(p)], deadline, "its runc ending")
    assert not [c for c in docker_client.containers.list(all=True)
                if seconds in json.dumps(c.attrs["Config"].get("Cmd"))]


def running_container(log: str) -> str:
    """The id of the RUN step's container, from the classic builder's log."""
    found = re.findall(r"Running in ([0-9a-f]{12})", log)
    assert found, log
    return found[-1]


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (RQ's work-horses run in their own process group)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def wait_until_gone(client: docker.DockerClient, container_id: str, seconds: float) -> float:
    """Seconds until the container is gone; fails past `seconds`."""
    start = time.monotonic()
    wait_until(lambda: not container_exists(client, container_id), seconds,
               f"container {container_id} going away")
    return time.monotonic() - start


def test_cancel_stops_running_build_and_drops_queued_one(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    docker_client: docker.DockerClient,
) -> None:
    app, write_rules = live_app
    bare, _ = source_repo({"Dockerfile": SLEEPER})
    write_rules(rules_for("it/cancel", f"file://{bare}", unique_image("cancel"),
                          main_rule(builder="classic")))  # its log names the RUN container
    client = app.test_client()
    body = {"repository": "it/cancel", "ref": "main"}
    first = client.post("/api/builds", json=body, headers=AUTH).get_json()["builds"][0]
    log = wait_for_log(client, first["id"], "\nsleeping-now\n")  # the RUN step's output
    second = client.post("/api/builds", json=body, headers=AUTH).get_json()["builds"][0]

    queued = client.post(f"/api/builds/{second['id']}/cancel", headers=AUTH)
    assert queued.status_code == 202
    assert queued.get_json()["status"] == "cancelled"

    container = running_container(log)
    response = client.post(f"/api/builds/{first['id']}/cancel", headers=AUTH)
    cancelled_at = time.monotonic()
    assert response.status_code == 202
    assert wait_until_gone(docker_client, container, 5.0) <= 5.0
    build = wait_for_build(client, first["id"], deadline=5.0 - (time.monotonic() - cancelled_at))
    assert build["status"] == "cancelled"
    assert "cancelled by api" in build["error"]
    again = client.post(f"/api/builds/{first['id']}/cancel", headers=AUTH)
    assert again.status_code == 409
    assert wait_for_build(client, second["id"])["status"] == "cancelled"


def test_cancel_stops_a_buildkit_run_step_at_once(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    docker_client: docker.DockerClient,
) -> None:
    app, write_rules = live_app
    dockerfile, seconds = unique_sleeper()
    bare, _ = source_repo({"Dockerfile": dockerfile})
    write_rules(rules_for("it/bk-cancel", f"file://{bare}", unique_image("bkcancel")))
    client = app.test_client()
    queued = client.post("/api/builds", json={"repository": "it/bk-cancel", "ref": "main"},
                         headers=AUTH).get_json()["builds"][0]
    wait_for_log(client, queued["id"], "sleeping-now")
    wait_until(lambda: processes_with("sleep\0", seconds), 10, "the RUN step's process")
    assert processes_with(DOCKER_CLI, queued["id"]), "BuildKit builds through the CLI"

    response = client.post(f"/api/builds/{queued['id']}/cancel", headers=AUTH)
    cancelled_at = time.monotonic()

    assert response.status_code == 202
    assert_buildkit_step_gone(docker_client, queued["id"], seconds, 5.0)
    log = wait_for_log(client, queued["id"], "Build stopped.",
                       deadline=5.0 - (time.monotonic() - cancelled_at))
    assert time.monotonic() - cancelled_at <= 5.0
    build = client.get(f"/api/builds/{queued['id']}").get_json()
    assert (build["status"], build["builder"]) == ("cancelled", "buildkit")
    assert "cancelled by api" in build["error"] and build["digest"] is None
    assert log.index("Build cancelled: stopping it now.") < log.index("Build stopped.")


@pytest.mark.parametrize("builder", ["buildkit", "classic"])
def test_timeout_ends_build_as_timed_out_with_its_own_message(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    docker_client: docker.DockerClient, builder: str,
) -> None:
    app, write_rules = live_app
    dockerfile, seconds = unique_sleeper()
    bare, _ = source_repo({"Dockerfile": dockerfile})
    write_rules(rules_for("it/timeout", f"file://{bare}", unique_image("timeout"),
                          main_rule(timeout="4", builder=builder)))
    client = app.test_client()
    queued = client.post("/api/builds", json={"repository": "it/timeout", "ref": "main"},
                         headers=AUTH).get_json()["builds"][0]
    log = wait_for_log(client, queued["id"], "sleeping-now")
    build = wait_for_build(client, queued["id"], deadline=30)
    assert build["status"] == "timed_out"
    assert "timeout of 4 s" in build["error"]
    log = wait_for_log(client, queued["id"], "Build timed out after 4 s")
    assert "cancelled" not in log.lower()
    if builder == "classic":
        wait_until_gone(docker_client, running_container(log), 5.0)
    else:
        assert_buildkit_step_gone(docker_client, queued["id"], seconds, 5.0)


def test_retry_queues_the_same_commit_again(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
) -> None:
    app, write_rules = live_app
    bare, commit = source_repo({"Dockerfile": "FROM local/busybox:latest\nRUN exit 1\n"})
    write_rules(rules_for("it/retry", f"file://{bare}", unique_image("retry")))
    client = app.test_client()
    failed = client.post("/api/builds", json={"repository": "it/retry", "ref": "main"},
                         headers=AUTH).get_json()["builds"][0]
    assert wait_for_build(client, failed["id"])["status"] == "failed"

    response = client.post(f"/api/builds/{failed['id']}/retry", headers=AUTH)

    assert response.status_code == 202
    (retried,) = response.get_json()["builds"]
    assert retried["id"] != failed["id"] and retried["commit"] == commit
    assert retried["trigger"] == "retry" and retried["tags"] == failed["tags"]
    assert wait_for_build(client, retried["id"])["status"] == "failed"
    assert client.post(f"/api/builds/{failed['id']}/retry").status_code == 401


@pytest.mark.parametrize("kill_group", [
    pytest.param(False, id="worker-process-killed"),
    pytest.param(True, id="worker-and-work-horse-killed"),
])
def test_killed_worker_ends_build_as_worker_lost(
    kill_group: bool, isolated_stack: Callable[..., tuple[FlaskClient, RulesWriter,
                                                          subprocess.Popen[bytes]]],
    source_repo: Callable[..., tuple[Path, str]],
) -> None:
    client, write_rules, lonely = isolated_stack(2 if kill_group else 1)
    bare, _ = source_repo({"Dockerfile": SLEEPER})
    write_rules(rules_for("it/lost", f"file://{bare}", unique_image("lost")))
    queued = client.post("/api/builds", json={"repository": "it/lost", "ref": "main"},
                         headers=AUTH).get_json()["builds"][0]
    wait_for_log(client, queued["id"], "sleeping-now")
    horses = children_of(lonely.pid)
    assert horses, "the worker runs builds in a forked work-horse"
    for pid in horses if kill_group else []:
        os.kill(pid, signal.SIGKILL)
    os.kill(lonely.pid, signal.SIGKILL)
    lonely.wait(timeout=10)
    # alone, the work-horse notices at once; with it gone, the session worker's sweeper
    # notices the missing heartbeats (stale after 30 s, checked every 10 s)
    build = wait_for_build(client, queued["id"], deadline=10 if not kill_group else 120)
    assert build["status"] == "failed"
    assert build["error"].startswith("worker lost")


def test_queued_build_whose_job_vanished_is_queued_again_and_built(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
) -> None:
    app, write_rules = live_app
    bare, commit = source_repo()
    write_rules(rules_for("it/requeue", f"file://{bare}", unique_image("requeue")))
    store = app.extensions["build_store"]
    queue = app.extensions["build_queue"]
    client = app.test_client()
    plan = make_plan(repository="it/requeue", ref="refs/heads/main", commit=commit,
                     clone_url=f"file://{bare}", tags=(f"{unique_image('requeue')}:latest",))
    (lost,) = store.create_builds([plan])  # recorded, but its job never reached Redis
    with store.engine.begin() as conn:
        conn.execute(builds.update().where(builds.c.id == lost.id).values(
            created_at=utcnow() - timedelta(minutes=5)))
    assert not queue.has_job(lost.id)

    _, requeued = janitor.sweep(store, queue)

    assert lost.id in requeued
    assert queue.has_job(lost.id)
    build = wait_for_build(client, lost.id)
    assert build["status"] == "success", build["error"]
    assert "Queued again" in client.get(f"/api/builds/{lost.id}/log").get_data(as_text=True)
    assert lost.id not in janitor.sweep(store, queue)[1]


def test_two_workers_build_repositories_in_parallel_but_one_ref_in_order(
    isolated_stack: Callable[..., tuple[FlaskClient, RulesWriter, subprocess.Popen[bytes]]],
    source_repo: Callable[..., tuple[Path, str]],
) -> None:
    client, write_rules, _ = isolated_stack(4, workers=2)
    slow = "FROM local/busybox:latest\nCOPY marker.txt /marker.txt\nRUN echo slow-step && sleep 4\n"
    bare_a, _ = source_repo({"Dockerfile": slow})
    # B is quick, so its worker is free to take A's second build while A's first still runs
    bare_b, _ = source_repo({"Dockerfile": slow.replace(" && sleep 4", " && sleep 1")})
    write_rules(rules_for("it/par-a", f"file://{bare_a}", unique_image("par"))
                + rules_for("it/par-b", f"file://{bare_b}", unique_image("par"))
                .removeprefix("repositories:\n"))

    def build_now(name: str) -> str:
        response = client.post("/api/builds", json={"repository": name, "ref": "main"},
                               headers=AUTH)
        assert response.status_code == 202, response.get_json()
        return str(response.get_json()["builds"][0]["id"])

    first_a, first_b = build_now("it/par-a"), build_now("it/par-b")
    wait_for_log(client, first_a, "slow-step")
    second_a = build_now("it/par-a")
    a1, b1, a2 = (wait_for_build(client, i) for i in (first_a, first_b, second_a))

    assert {a1["status"], b1["status"], a2["status"]} == {"success"}
    assert b1["started_at"] < a1["finished_at"] and a1["started_at"] < b1["finished_at"]
    assert a2["started_at"] >= a1["finished_at"]
    log = client.get(f"/api/builds/{second_a}/log").get_data(as_text=True)
    assert "Waiting for the running build of the same rule and ref" in log
