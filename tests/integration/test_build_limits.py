"""Memory and CPU limits on the real engine: BuildKit's through its cgroup, the classic
builder's through docker-py; a RUN step over its memory is killed and the build says why."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import API_TOKEN
from tests.integration.conftest import (
    RulesWriter,
    main_rule,
    rules_for,
    unique_image,
    wait_for_build,
    wait_for_log,
)
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
BUILDKIT_MEMORY = Path("/sys/fs/cgroup/memory/docker/buildkit/memory.limit_in_bytes")
BUILDKIT_CPU = Path("/sys/fs/cgroup/cpu/docker/buildkit/cpu.cfs_quota_us")
GROW = "s=x; i=0; while [ $i -lt 26 ]; do s=$s$s; i=$((i+1)); done"  # a 64 MiB string


def build_main(app: Flask, write_rules: RulesWriter, bare: Path, **rule: str) -> dict[str, str]:
    write_rules(rules_for("it/limits", f"file://{bare}", unique_image("limits"),
                          main_rule(**rule)))
    client = app.test_client()
    return client.post("/api/builds", json={"repository": "it/limits", "ref": "main"},
                       headers=AUTH).get_json()["builds"][0]  # type: ignore[no-any-return]


@pytest.fixture
def cgroup_v1() -> None:
    if not BUILDKIT_MEMORY.parent.parent.is_dir():
        pytest.fail("these machines run dockerd with cgroup v1 and the cgroupfs driver; "
                    f"{BUILDKIT_MEMORY.parent.parent} is missing")


@pytest.mark.parametrize("builder", ["buildkit", "classic"])
def test_a_run_step_over_its_memory_limit_is_killed_and_the_build_says_why(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    builder: str, cgroup_v1: None,
) -> None:
    app, write_rules = live_app
    nonce = uuid.uuid4().hex
    bare, _ = source_repo({"Dockerfile": f"FROM local/busybox:latest\n"
                                         f"RUN echo {nonce}; {GROW}; echo grew\n"})
    before = BUILDKIT_MEMORY.read_text()

    queued = build_main(app, write_rules, bare, builder=builder, memory="32m")
    build = wait_for_build(app.test_client(), queued["id"])

    assert build["status"] == "failed"
    assert build["error"].endswith(
        "(killed: most likely it needed more than the build's memory limit of 32 MiB)"), build
    assert "137" in build["error"]
    log = app.test_client().get(f"/api/builds/{build['id']}/log").get_data(as_text=True)
    assert "limits: memory 32 MiB)" in log and "\ngrew" not in log
    assert BUILDKIT_MEMORY.read_text() == before, "the engine's BuildKit cgroup is restored"


def test_buildkit_runs_under_the_cpu_limit_and_gives_it_back(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    cgroup_v1: None,
) -> None:
    app, write_rules = live_app
    nonce = uuid.uuid4().hex
    bare, _ = source_repo({"Dockerfile": f"FROM local/busybox:latest\n"
                                         f"RUN echo started-{nonce} && sleep 2\n"})
    quota_before, memory_before = BUILDKIT_CPU.read_text(), BUILDKIT_MEMORY.read_text()

    queued = build_main(app, write_rules, bare, cpus="0.5")
    wait_for_log(app.test_client(), queued["id"], f"started-{nonce}\n")
    during = BUILDKIT_CPU.read_text().strip(), BUILDKIT_MEMORY.read_text()
    build = wait_for_build(app.test_client(), queued["id"])

    assert build["status"] == "success", build["error"]
    assert during == ("50000", memory_before)
    wait_until(lambda: BUILDKIT_CPU.read_text() == quota_before, 5, "the quota's restoring")
