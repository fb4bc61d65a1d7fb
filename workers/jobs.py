"""The RQ entry points: run one build, and record builds whose job died (glue only)."""

from __future__ import annotations

import functools
import logging
import os
from typing import Any

import docker
import docker.errors

from core.config import Settings, settings_from_env
from core.status import BuildStatus
from notify.queue import RQNotificationQueue, enqueue_moved
from records.builds import BuildStore
from records.commit_hooks import after_commit
from workers.buildlog import BuildLog
from workers.engine_errors import describe_connection_error
from workers.notifier import redis_for
from workers.pipeline import execute_build
from workers.watchdog import WORKER_LOST

logger = logging.getLogger(__name__)


def _settings() -> Settings:
    return settings_from_env(os.environ, base_dir=os.getcwd())


def _store(settings: Settings) -> BuildStore:
    """A store whose committed transitions enqueue their notifications."""
    store = BuildStore.from_url(settings.database_url, log_cap=settings.log_cap_bytes)
    after_commit(store.engine, enqueue_moved(RQNotificationQueue(redis_for(settings))))
    return store


@functools.lru_cache(maxsize=4)
def engine_api_version(docker_host: str) -> str:
    """The engine's API version. `python -m workers` asks once before its first build, and its
    forked work-horses inherit the answer instead of each asking again (a round trip)."""
    client = docker.APIClient(base_url=docker_host, version="auto", timeout=30)
    try:
        return str(client.api_version)
    finally:
        client.close()


def run_build(build_id: str) -> str:
    """Entry point RQ calls (by dotted path) for one queued build; returns its final status."""
    settings = _settings()
    store = _store(settings)
    try:
        version = engine_api_version(settings.docker_host)
    except docker.errors.DockerException as exc:
        cause = exc.__cause__ or exc
        message = describe_connection_error(cause, engine=settings.docker_host,
                                            timeout=settings.engine_timeout)
        return _fail_unstarted(store, build_id, f"{message} (the build did not start)")
    client = docker.APIClient(base_url=settings.docker_host, timeout=settings.engine_timeout,
                              version=version)
    try:
        return execute_build(build_id, store=store, settings=settings, docker_api=client,
                             environ=os.environ).value
    finally:
        client.close()
        store.engine.dispose()


def _fail_unstarted(store: BuildStore, build_id: str, message: str) -> str:
    """Fail a queued build that cannot start (no engine), saying why; its status."""
    try:
        if store.set_status(build_id, BuildStatus.FAILED, error=message):
            BuildLog(store, build_id)(f"{message}\n")
        build = store.get_build(build_id)
        return build.status.value if build else BuildStatus.FAILED.value
    finally:
        store.engine.dispose()


def mark_abandoned(job: Any, connection: Any, *exc_info: Any) -> None:
    """RQ on_failure callback: a build whose job died without recording an end is 'worker lost'."""
    build_id = job.args[0] if job.args else job.id
    store = _store(_settings())
    try:
        build = store.get_build(build_id)
        if build is None or build.status.is_terminal():
            return
        reason = exc_info[1] if len(exc_info) > 1 else None
        message = WORKER_LOST if reason is None or "Abandoned" in type(reason).__name__ else (
            f"the build job failed: {type(reason).__name__}: {reason}")
        if store.set_status(build_id, BuildStatus.FAILED, error=message):
            BuildLog(store, build_id)(f"\n{message}\n")
    finally:
        store.engine.dispose()
