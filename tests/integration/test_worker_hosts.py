"""Two worker "hosts" on the real stack: each its own `python -m workers` process with its own
AUTOBUILD_VAR_DIR and its own Docker engine (the second a dockerd of its own, reached through
that worker's DOCKER_HOST), sharing PostgreSQL, Redis and a registry.

Builds spread over both, each image is built on one engine and pushed once (the registry's
push notifications and digests), one rule and ref still builds in commit order across hosts,
and a host that is lost (worker killed, engine stopped) ends its build "worker lost" while the
rule's next build runs on the other host.
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from redis import Redis
from rq import Worker
from rq.job import Job

from service import create_app
from tests.conftest import API_TOKEN, commit_files, git, make_repo
from tests.databases import POSTGRESQL
from tests.integration.buildkit_support import processes_with
from tests.integration.conftest import (
    AUTH,
    BASE_IMAGE,
    registry_digest,
    rules_for,
    start_worker,
    wait_for_build,
    wait_for_log,
)
from tests.integration.engines import SecondEngine, second_engine
from tests.integration.hosts import PushCounter
from tests.integration.test_worker_control import children_of
from tests.waiting import wait_until
from workers.docker_cli import DOCKER_CLI

pytestmark = pytest.mark.integration
REDIS_DB = 13  # no other test's workers read this Redis database
LOST_DEADLINE = 90.0  # missing heartbeats: stale after 30 s, swept every 10 s by live workers


@dataclass
class Host:
    """One build machine: its worker process, its engine and its var/ folder."""

    name: str
    worker: subprocess.Popen[bytes]
    engine: docker.DockerClient
    var_dir: Path
    rq_name: str = ""

    def has_image(self, reference: str) -> bool:
        try:
            self.engine.images.get(reference)
        except docker.errors.ImageNotFound:
            return False
        return True


@pytest.fixture
def engine_two(docker_client: docker.DockerClient) -> Iterator[SecondEngine]:
    """The second host's own dockerd, holding the base image; always stopped and removed."""
    with second_engine(docker_client, BASE_IMAGE) as engine:
        yield engine


@pytest.fixture
def registry(httpserver: HTTPServer, tmp_path: Path) -> Iterator[PushCounter]:
    folder = tmp_path / "registry"
    folder.mkdir()
    counter = PushCounter(httpserver, folder)
    yield counter
    counter.close()


@pytest.fixture
def two_hosts(stack: dict[str, str], database: str, tmp_path: Path,
              docker_client: docker.DockerClient, engine_two: SecondEngine
              ) -> Iterator[tuple[Flask, Callable[[str], None], dict[str, Host], Redis]]:
    """The app and two worker hosts on one database and one Redis database of their own:
    host-1 on the main engine (also serving queue host-1), host-2 on its own engine."""
    redis_url = stack["redis_url"].rsplit("/", 1)[0] + f"/{REDIS_DB}"
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    rules = tmp_path / "rules.yaml"
    rules.write_text("repositories: []\n")
    app = create_app({"TESTING": True, "DATABASE_URL": database, "REDIS_URL": redis_url,
                      "RULES_PATH": str(rules), "API_TOKEN": API_TOKEN, "DB_UPGRADE": "auto"})
    hosts: dict[str, Host] = {}
    for name, docker_host, client, queues in (
            ("host-1", "unix:///var/run/docker.sock", docker_client, ("builds", "host-1")),
            ("host-2", engine_two.docker_host, engine_two.client, ("builds",))):
        var = tmp_path / name
        env = dict(os.environ, REDIS_URL=redis_url, DATABASE_URL=database,
                   AUTOBUILD_RULES=str(rules), AUTOBUILD_VAR_DIR=str(var), DOCKER_HOST=docker_host,
                   AUTOBUILD_DB_UPGRADE="auto", AUTOBUILD_BUILD_NETWORK="none")
        assert client is not None
        hosts[name] = Host(name, start_worker(env, tmp_path / f"{name}.log", *queues), client, var)

    def registered() -> bool:
        by_pid = {w.pid: w.name for w in Worker.all(connection=redis)}
        for host in hosts.values():
            host.rq_name = by_pid.get(host.worker.pid, "")
        return all(host.rq_name for host in hosts.values())

    wait_until(registered, 60, "both hosts' workers listening")

    def write_rules(text: str) -> None:
        rules.write_text(text)
        app.extensions["rules"]._checked = 0.0
        later = os.stat(rules).st_mtime + 1
        os.utime(rules, (later, later))
        assert app.extensions["rules"].error is None

    yield app, write_rules, hosts, redis
    for host in hosts.values():
        if host.worker.poll() is None:
            host.worker.terminate()
            try:
                host.worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(host.worker.pid, signal.SIGKILL)
                host.worker.wait(timeout=10)
    app.extensions["build_store"].engine.dispose()
    redis.flushdb()
    redis.close()


def build_now(client: FlaskClient, name: str) -> dict[str, Any]:
    response = client.post("/api/builds", json={"repository": name, "ref": "main"},
                           headers=AUTH)
    assert response.status_code == 202, response.get_json()
    (build,) = response.get_json()["builds"]
    return dict(build)


def ran_on(redis: Redis, hosts: dict[str, Host], build_id: str) -> Host:
    """The host whose worker took the build's job (RQ records the worker's name)."""
    worker = Job.fetch(build_id, connection=redis).worker_name
    return next(host for host in hosts.values() if host.rq_name == worker)


def repository(tmp_path: Path, label: str, dockerfile: str) -> tuple[Path, Path, str]:
    """A bare repository (and its working copy) whose main has `dockerfile`."""
    bare, commit = make_repo(tmp_path / label, {"Dockerfile": dockerfile,
                                                "marker.txt": uuid.uuid4().hex})
    return bare, tmp_path / label / "work", commit


def new_commit(work: Path, files: dict[str, str]) -> str:
    commit = commit_files(work, files, "Next commit")
    git("push", "-q", "origin", "main", cwd=work)
    return commit


@pytest.mark.parametrize("database", [POSTGRESQL], indirect=True)
def test_two_hosts_share_the_builds_in_order_and_survive_losing_one(
    two_hosts: tuple[Flask, Callable[[str], None], dict[str, Host], Redis],
    registry: PushCounter, engine_two: SecondEngine, tmp_path: Path,
) -> None:
    app, write_rules, hosts, redis = two_hosts
    one, two = hosts["host-1"], hosts["host-2"]
    client = app.test_client()
    prefix = f"{registry.address}/hosts-{uuid.uuid4().hex[:8]}"
    slow = f"FROM {BASE_IMAGE}\nCOPY marker.txt /marker.txt\nRUN echo {{step}} && sleep {{s}}\n"
    sleeper = str(30000 + uuid.uuid4().int % 9999)
    sources = {f"it/spread-{i}": repository(tmp_path, f"spread-{i}",
                                            slow.format(step="spread-step", s=2))
               for i in range(4)}
    sources["it/order"] = repository(tmp_path, "order", slow.format(step="order-step", s=3))
    sources["it/lost"] = repository(tmp_path, "lost", slow.format(step="lost-step", s=sleeper))
    sources["it/blocker"] = repository(tmp_path, "blocker",
                                       slow.format(step="blocker-step", s=sleeper))
    text = "repositories:\n"
    for name, (bare, _, _) in sources.items():
        rule = ("      - {source_type: branch, source: main, tag: latest"
                + (", queue: host-1}\n" if name == "it/blocker" else "}\n"))
        text += rules_for(name, f"file://{bare}", f"{prefix}/{name.split('/')[1]}",
                          rule).removeprefix("repositories:\n")
    write_rules(text)

    # builds spread over both hosts; each image is built on one engine and pushed once
    spread = [build_now(client, f"it/spread-{i}") for i in range(4)]
    ended = [wait_for_build(client, b["id"]) for b in spread]
    assert [b["status"] for b in ended] == ["success"] * 4, [b["error"] for b in ended]
    builders = [ran_on(redis, hosts, b["id"]) for b in ended]
    assert {host.name for host in builders} == {"host-1", "host-2"}
    for build, host in zip(ended, builders, strict=True):
        (tag,) = build["tags"]
        assert build["digest"] == registry_digest(tag)
        assert [h.name for h in hosts.values() if h.has_image(tag)] == [host.name]
    spread_tags = sorted((f"hosts-{prefix.rsplit('-', 1)[1]}/spread-{i}", "latest")
                         for i in range(4))
    wait_until(lambda: len(registry.manifest_pushes()) >= 4, 30, "4 push notifications")
    assert sorted(registry.manifest_pushes()) == spread_tags  # one push per image
    assert all((host.var_dir / "mirrors").is_dir() for host in hosts.values())

    # one rule and ref builds in commit order, even when the other host is free
    first = build_now(client, "it/order")
    wait_for_log(client, first["id"], "order-step")
    order_bare, order_work, _ = sources["it/order"]
    second_commit = new_commit(order_work, {"marker.txt": "second"})
    second = build_now(client, "it/order")
    a1, a2 = wait_for_build(client, first["id"]), wait_for_build(client, second["id"])
    assert (a1["status"], a2["status"], a2["commit"]) == ("success", "success", second_commit)
    assert ran_on(redis, hosts, a1["id"]) is not ran_on(redis, hosts, a2["id"])
    assert a2["started_at"] >= a1["finished_at"]
    assert "Waiting for the running build of the same rule and ref" in client.get(
        f"/api/builds/{a2['id']}/log").get_data(as_text=True)
    assert registry_digest(a2["tags"][0]) == a2["digest"]

    # host-2 is lost mid-build (host-1 is busy, so the build runs there)
    blocker = build_now(client, "it/blocker")
    wait_for_log(client, blocker["id"], "blocker-step")
    assert ran_on(redis, hosts, blocker["id"]) is one
    lost = build_now(client, "it/lost")
    wait_for_log(client, lost["id"], "lost-step")
    assert ran_on(redis, hosts, lost["id"]) is two
    for pid in children_of(two.worker.pid):  # the work-horse runs in its own process group
        os.kill(pid, signal.SIGKILL)
    os.killpg(two.worker.pid, signal.SIGKILL)
    two.worker.wait(timeout=10)
    engine_two.stop()
    wait_until(lambda: not processes_with(DOCKER_CLI, lost["id"]), 30,
               "the lost build's docker CLI gone with its host")
    assert client.post(f"/api/builds/{blocker['id']}/cancel", headers=AUTH).status_code == 202

    _, lost_work, _ = sources["it/lost"]
    quick = new_commit(lost_work, {"Dockerfile": f"FROM {BASE_IMAGE}\nRUN echo after-loss\n"})
    after = build_now(client, "it/lost")
    ended_lost = wait_for_build(client, lost["id"], deadline=LOST_DEADLINE)
    assert ended_lost["status"] == "failed"
    assert ended_lost["error"].startswith("worker lost"), ended_lost["error"]
    rebuilt = wait_for_build(client, after["id"])
    assert (rebuilt["status"], rebuilt["commit"]) == ("success", quick), rebuilt["error"]
    assert ran_on(redis, hosts, after["id"]) is one
    assert rebuilt["started_at"] >= ended_lost["finished_at"]
    assert one.has_image(rebuilt["tags"][0])
    assert registry_digest(rebuilt["tags"][0]) == rebuilt["digest"]
