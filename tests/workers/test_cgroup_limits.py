"""Build limits on the engine's BuildKit cgroup, against cgroup folders made in a temporary
directory (v1 and v2 layouts): what is written, what is restored, who waits for whom."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from core.build_limits import BuildLimits
from core.errors import ImageBuildError
from tests.waiting import wait_until
from workers.cgroup_limits import CgroupLimits

UNLIMITED = "9223372036854771712"
LIMITS = BuildLimits(memory=64 * 1024 * 1024, millicpus=1500)


def cgroup_v1(root: Path) -> dict[str, Path]:
    files = {"memory.limit_in_bytes": ("memory", UNLIMITED),
             "memory.memsw.limit_in_bytes": ("memory", UNLIMITED),
             "cpu.cfs_quota_us": ("cpu", "-1"), "cpu.cfs_period_us": ("cpu", "100000")}
    paths = {}
    for name, (controller, value) in files.items():
        folder = root / controller / "docker" / "buildkit"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(value + "\n")
        paths[name] = folder / name
    return paths


def cgroup_v2(root: Path) -> dict[str, Path]:
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    folder = root / "docker" / "buildkit"
    folder.mkdir(parents=True)
    paths = {}
    for name, value in (("memory.max", "max"), ("memory.swap.max", "max"),
                        ("cpu.max", "max 100000")):
        (folder / name).write_text(value + "\n")
        paths[name] = folder / name
    return paths


def contents(paths: dict[str, Path]) -> dict[str, str]:
    return {name: path.read_text().strip() for name, path in paths.items()}


def limiter(root: Path, host: str = "unix:///var/run/docker.sock") -> CgroupLimits:
    return CgroupLimits(cgroup="docker/buildkit", docker_host=host, root=root)


def test_v1_limits_hold_while_the_build_runs_and_are_restored_after(tmp_path: Path) -> None:
    paths = cgroup_v1(tmp_path)
    before = contents(paths)
    logged: list[str] = []

    with limiter(tmp_path).applied(LIMITS, logged.append):
        during = contents(paths)

    assert during == {"memory.limit_in_bytes": str(64 << 20),
                      "memory.memsw.limit_in_bytes": str(64 << 20),
                      "cpu.cfs_quota_us": "150000", "cpu.cfs_period_us": "100000"}
    assert contents(paths) == before
    assert logged == ["Limits: memory 64 MiB, 1.5 CPUs (on the engine's BuildKit cgroup "
                      "docker/buildkit)\n"]


def test_v2_limits_hold_while_the_build_runs_and_are_restored_after(tmp_path: Path) -> None:
    paths = cgroup_v2(tmp_path)

    with limiter(tmp_path).applied(BuildLimits(memory=32 << 20), lambda _: None):
        during = contents(paths)

    assert during == {"memory.max": str(32 << 20), "memory.swap.max": "0",
                      "cpu.max": "max 100000"}
    assert contents(paths) == {"memory.max": "max", "memory.swap.max": "max",
                               "cpu.max": "max 100000"}


def test_a_failing_build_still_restores_the_limits(tmp_path: Path) -> None:
    paths = cgroup_v1(tmp_path)
    with pytest.raises(ImageBuildError), limiter(tmp_path).applied(LIMITS, lambda _: None):
        raise ImageBuildError("[1/1] RUN false: exit code: 1")
    assert contents(paths)["memory.limit_in_bytes"] == UNLIMITED


def test_limits_need_the_engine_on_this_machine(tmp_path: Path) -> None:
    cgroup_v1(tmp_path)
    with pytest.raises(ImageBuildError) as refused, limiter(
            tmp_path, "tcp://builder.example.com:2376").applied(LIMITS, lambda _: None):
        pass
    assert refused.value.user_message.startswith(
        "build limits (memory 64 MiB, 1.5 CPUs) need the Docker engine on the worker's machine")


def test_an_unwritable_cgroup_fails_naming_the_file(tmp_path: Path) -> None:
    paths = cgroup_v1(tmp_path)
    paths["memory.limit_in_bytes"].unlink()
    paths["memory.limit_in_bytes"].mkdir()  # unwritable even for root
    with pytest.raises(ImageBuildError) as refused, limiter(tmp_path).applied(
            LIMITS, lambda _: None):
        pass
    assert refused.value.user_message.startswith(
        f"cannot apply the build's limits: {paths['memory.limit_in_bytes']}: ")


def test_a_build_without_limits_waits_for_a_limited_one_and_runs_unlimited(
        tmp_path: Path) -> None:
    paths = cgroup_v1(tmp_path)
    limited_in, release = threading.Event(), threading.Event()
    seen: list[str] = []
    waited: list[str] = []

    def limited() -> None:
        with limiter(tmp_path).applied(LIMITS, lambda _: None):
            limited_in.set()
            release.wait(10)

    def unlimited() -> None:
        with limiter(tmp_path).applied(BuildLimits(), waited.append):
            seen.append(contents(paths)["memory.limit_in_bytes"])

    first = threading.Thread(target=limited)
    first.start()
    limited_in.wait(10)
    second = threading.Thread(target=unlimited)
    second.start()
    wait_until(lambda: waited, 10, "the unlimited build waiting")
    assert seen == []
    release.set()
    first.join(10)
    second.join(10)

    assert seen == [UNLIMITED]
    assert waited[0].startswith("Waiting for the engine's other BuildKit builds")


def test_unlimited_builds_run_together(tmp_path: Path) -> None:
    cgroup_v1(tmp_path)
    inside = threading.Barrier(2, timeout=10)

    def build() -> None:
        with limiter(tmp_path).applied(BuildLimits(), lambda _: None):
            inside.wait()  # both hold the shared lock at once, or this times out

    threads = [threading.Thread(target=build) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert not inside.broken
