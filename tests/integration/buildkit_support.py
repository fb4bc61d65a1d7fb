"""Helpers for the BuildKit real-stack tests: registry reads, process scans, polling, cleanup."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
import requests

LIST_TYPES = ("application/vnd.docker.distribution.manifest.list.v2+json, "
              "application/vnd.oci.image.index.v1+json")
IMAGE_TYPES = ("application/vnd.docker.distribution.manifest.v2+json, "
               "application/vnd.oci.image.manifest.v1+json")


def registry_get(reference: str, *, accept: str = LIST_TYPES,
                 auth: tuple[str, str] | None = None) -> tuple[dict[str, Any], str]:
    """(manifest JSON, digest) the registry serves for `host/repo:tag` or `host/repo@digest`."""
    host, _, rest = reference.partition("/")
    if "@" in rest:
        repo, _, ref = rest.partition("@")
    else:
        repo, _, ref = rest.rpartition(":")
    answer = requests.get(f"http://{host}/v2/{repo}/manifests/{ref}", timeout=10, auth=auth,
                          headers={"Accept": accept})
    answer.raise_for_status()
    return answer.json(), answer.headers["Docker-Content-Digest"]


def registry_tags(repository: str) -> list[str] | None:
    """The tags of `host/repo` on its registry; None when the repository does not exist."""
    host, _, repo = repository.partition("/")
    answer = requests.get(f"http://{host}/v2/{repo}/tags/list", timeout=10)
    if answer.status_code == 404:
        return None
    answer.raise_for_status()
    return sorted(answer.json().get("tags") or [])


def processes_with(*needles: str) -> list[int]:
    """Pids of processes whose command line (NUL-separated) contains every needle."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if cmdline and all(needle in cmdline for needle in needles):
            found.append(int(entry.name))
    return found


def is_running(pid: int) -> bool:
    """Whether `pid` is a live (not zombie) process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def parent_pid(pid: int) -> int:
    """The parent of a process (0 once it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


def wait_until(condition: Callable[[], object], what: str, deadline: float = 60.0) -> Any:
    """Poll `condition` until it is truthy (and return it), or fail naming `what`."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {deadline} s")


class LogCollector:
    """A thread-safe `log` for builds, and the text it collected."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, text: str) -> None:
        with self._lock:
            self.parts.append(text)

    @property
    def text(self) -> str:
        with self._lock:
            return "".join(self.parts)


def step_number(log: str, name: str) -> str:
    """The BuildKit step number (#N) printed for a step name."""
    for line in log.splitlines():
        if line.startswith("#") and line.split(" ", 1)[1:] == [name]:
            return line.split(" ", 1)[0]
    pytest.fail(f"no step {name!r} in the log:\n{log}")


def write_context(folder: Path, files: dict[str, str]) -> Path:
    """A build context folder with these files."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return folder


def environ_without_docker_config() -> dict[str, str]:
    """The test process's environment, for builders that must not see its DOCKER_CONFIG."""
    return {k: v for k, v in os.environ.items() if k != "DOCKER_CONFIG"}


def forget_step_cache(engine: docker.DockerClient, marker: str) -> None:
    """Drop the engine's own build cache of the steps whose command holds `marker`, and of the
    steps built on them (only those: other builds on this engine keep theirs). A record goes
    only once the records built on it are gone, so the latest steps go first."""
    def doomed() -> list[str]:
        records = engine.api.df()["BuildCache"] or []
        found = [r["ID"] for r in records if marker in (r.get("Description") or "")]
        for record in found:  # grows while walking: children of children
            found.extend(r["ID"] for r in records if r.get("Parent") == record
                         and r["ID"] not in found)
        return found

    for record in reversed(doomed()):
        engine.api.prune_builds(filters={"id": record})
    assert doomed() == []
