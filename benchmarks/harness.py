"""A whole Autobuild for one scenario: private Redis, a SQLite database, the Procfile's web
command and `python -m workers` processes, and what a scenario asks of them (post a push,
wait for a build, read the registry)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from benchmarks import stack
from benchmarks.hooks import PushTemplate, post_push, write_rules
from core.status import BuildStatus
from records.builds import BuildRecord, BuildStore

ACCEPT = ("application/vnd.docker.distribution.manifest.v2+json, "
          "application/vnd.oci.image.manifest.v1+json, "
          "application/vnd.docker.distribution.manifest.list.v2+json")


@dataclass
class Service:
    """The running processes of one scenario and a client for them."""

    port: int
    store: BuildStore
    env: dict[str, str]
    folder: Path
    session: requests.Session
    web_pid: int = 0
    worker_pids: tuple[int, ...] = ()

    def push(self, repository: str, commit: str, before: str | None = None) -> list[str]:
        """Post the signed push of `commit`; the ids of the builds it queued."""
        answer = post_push(self.session, self.port,
                           PushTemplate.for_repository(repository, before=before), commit)
        if answer.status_code != 202:
            raise RuntimeError(f"push answered {answer.status_code}: {answer.text[:300]}")
        return [str(b["id"]) for b in answer.json().get("builds", [])]

    def finished(self, build_id: str, *, timeout: float = 300,
                 interval: float = 0.02) -> BuildRecord:
        """The build once it ended (read every `interval` s); RuntimeError unless it
        succeeded."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            build = self.store.get_build(build_id)
            if build is not None and build.status.is_terminal():
                if build.status is not BuildStatus.SUCCESS:
                    raise RuntimeError(f"build {build_id} ended {build.status.value}: "
                                       f"{build.error}")
                return build
            time.sleep(interval)
        raise RuntimeError(f"build {build_id} did not end within {timeout:g} s")

    def digest(self, image: str, tag: str = "latest") -> str | None:
        """The registry's manifest digest of `image:tag`, or None."""
        repository = image.removeprefix(f"{stack.REGISTRY}/")
        answer = self.session.head(f"http://{stack.REGISTRY}/v2/{repository}/manifests/{tag}",
                                   headers={"Accept": ACCEPT}, timeout=10)
        return answer.headers.get("Docker-Content-Digest") if answer.ok else None


@contextmanager
def service(folder: Path, entries: list[str], *, workers: int = 1,
            web: bool = True) -> Iterator[Service]:
    """Redis, a SQLite database, the web command and `workers` workers, for `entries`."""
    rules = write_rules(folder / "rules.yaml", entries)
    with ExitStack() as stack_:
        redis_url = stack_.enter_context(stack.redis_server(folder))
        env = stack.service_env(folder, redis_url=redis_url,
                                database_url=f"sqlite:///{folder}/autobuild.db", rules=rules)
        stack.prepare_database(env)
        port, web_pid = 0, 0
        if web:
            port, master = stack_.enter_context(stack.web_server(env, folder))
            web_pid = master.pid
        processes = stack_.enter_context(stack.workers(env, folder, workers)) if workers else []
        store = BuildStore.from_url(env["DATABASE_URL"])
        stack_.callback(store.engine.dispose)
        session = requests.Session()
        stack_.callback(session.close)
        yield Service(port, store, env, folder, session, web_pid,
                      tuple(p.pid for p in processes))


def phases(build: BuildRecord) -> dict[str, datetime]:
    """When the build was queued, started and entered each phase."""
    assert build.started_at and build.building_at and build.pushing_at and build.finished_at
    return {"queued": build.created_at, "cloning": build.started_at,
            "building": build.building_at, "pushing": build.pushing_at,
            "finished": build.finished_at}


def seconds_between(marks: dict[str, Any], start: str, end: str) -> float:
    return float((marks[end] - marks[start]).total_seconds())
