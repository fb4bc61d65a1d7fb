"""Memory and CPU limits for BuildKit builds, on the engine's BuildKit cgroup (cgroupfs I/O).

The engine's built-in BuildKit ignores `--memory` and `--cpu-quota` (moby/buildkit#593) and
runs every RUN step in a child of one cgroup, `docker/buildkit` with dockerd's cgroupfs driver.
A build with limits sets them on that cgroup for its duration, which the kernel enforces on
all of its RUN steps. As every BuildKit build on the engine shares the cgroup, a build with
limits holds it alone (an exclusive flock on the cgroup's folder) and builds without limits
share it (a shared flock), so no build ever runs under another's limits. That needs the worker
on the engine's machine, allowed to write the cgroup (root), which is checked, never assumed.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from core.build_limits import BuildLimits
from core.errors import ImageBuildError

CGROUP_ROOT = Path("/sys/fs/cgroup")
CPU_PERIOD = 100_000  # microseconds: the kernel's default CFS period
Log = Callable[[str], None]


class CgroupLimits:
    """Applies one build's limits to the engine's BuildKit cgroup while the build runs."""

    def __init__(self, *, cgroup: str, docker_host: str, root: Path = CGROUP_ROOT) -> None:
        self.cgroup = cgroup
        self.docker_host = docker_host
        self.root = root

    @property
    def unified(self) -> bool:
        """Whether the machine uses cgroup v2 (one hierarchy)."""
        return (self.root / "cgroup.controllers").is_file()

    def folder(self, controller: str) -> Path:
        """The BuildKit cgroup's folder for `controller` (v1), or its only folder (v2)."""
        return self.root / self.cgroup if self.unified else self.root / controller / self.cgroup

    @contextmanager
    def applied(self, limits: BuildLimits, log: Log) -> Iterator[None]:
        """While the block runs: `limits` on BuildKit's cgroup, or no limits, held so."""
        if not limits:
            with self._held(fcntl.LOCK_SH, log, required=False):
                yield
            return
        if not self.docker_host.startswith("unix://"):
            raise ImageBuildError(
                f"build limits ({limits.describe()}) need the Docker engine on the worker's "
                f"machine, which sets them on the engine's BuildKit cgroup; the engine at "
                f"{self.docker_host} is not: run the worker beside its engine, or use "
                "builder: classic")
        with self._held(fcntl.LOCK_EX, log, required=True):
            log(f"Limits: {limits.describe()} (on the engine's BuildKit cgroup "
                f"{self.cgroup})\n")
            with self._limited(limits):
                yield

    @contextmanager
    def _held(self, mode: int, log: Log, *, required: bool) -> Iterator[None]:
        folder = self.folder("memory")
        try:
            if required:
                folder.mkdir(parents=True, exist_ok=True)  # dockerd makes it at its first build
            descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            if not required:  # nothing to share: no build here can set limits either
                yield
                return
            raise self._cannot(folder, exc) from None
        try:
            try:
                fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
            except BlockingIOError:
                log("Waiting for the engine's other BuildKit builds: limits apply to all RUN "
                    "steps on the engine, so a build with limits runs alone\n")
                fcntl.flock(descriptor, mode)
            yield
        finally:
            os.close(descriptor)  # releases the lock

    def _settings(self, limits: BuildLimits) -> list[tuple[Path, str]]:
        """The cgroup files to write for `limits`, in an order the kernel accepts."""
        quota = limits.millicpus * CPU_PERIOD // 1000 if limits.millicpus is not None else None
        if self.unified:
            folder = self.folder("")
            memory = [] if limits.memory is None else [(folder / "memory.max", str(limits.memory))]
            if memory and (folder / "memory.swap.max").exists():
                memory.append((folder / "memory.swap.max", "0"))
            cpu = [] if quota is None else [(folder / "cpu.max", f"{quota} {CPU_PERIOD}")]
            return memory + cpu
        memory_folder, cpu_folder = self.folder("memory"), self.folder("cpu")
        found: list[tuple[Path, str]] = []
        if limits.memory is not None:  # memsw may not be below the limit: it goes second
            found.append((memory_folder / "memory.limit_in_bytes", str(limits.memory)))
            if (memory_folder / "memory.memsw.limit_in_bytes").exists():
                found.append((memory_folder / "memory.memsw.limit_in_bytes", str(limits.memory)))
        if quota is not None:
            cpu_folder.mkdir(parents=True, exist_ok=True)
            found += [(cpu_folder / "cpu.cfs_period_us", str(CPU_PERIOD)),
                      (cpu_folder / "cpu.cfs_quota_us", str(quota))]
        return found

    @contextmanager
    def _limited(self, limits: BuildLimits) -> Iterator[None]:
        """Write the limits, and on the way out what each file held before, in reverse."""
        written: list[tuple[Path, str]] = []
        try:
            for path, value in self._settings(limits):
                before = self._read(path)
                self._set(path, value)
                written.append((path, before))
            yield
        finally:
            for path, before in reversed(written):
                self._set(path, before)

    def _read(self, path: Path) -> str:
        try:
            return path.read_text().split("\n")[0].strip()
        except OSError as exc:
            raise self._cannot(path, exc) from None

    def _set(self, path: Path, value: str) -> None:
        try:
            path.write_text(value)
        except OSError as exc:
            raise self._cannot(path, exc) from None

    def _cannot(self, path: Path, exc: OSError) -> ImageBuildError:
        return ImageBuildError(
            f"cannot apply the build's limits: {path}: {exc.strerror or exc} (the worker sets "
            "memory and CPU limits on the engine's BuildKit cgroup, so it must run as root on "
            "the engine's machine; AUTOBUILD_BUILDKIT_CGROUP names the cgroup)")
