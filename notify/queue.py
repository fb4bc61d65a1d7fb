"""Enqueueing notification jobs on the `notifications` queue (Redis I/O).

The web process and the workers enqueue by dotted path, right after a transaction that moved
builds commits (records/commit_hooks.py); the notifier process runs the jobs. Redis being down
loses nothing: the rows wait in the database and the notifier's sweep enqueues them later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from redis import Redis
from rq import Queue

from core.defaults import NOTIFY_QUEUE_NAME

logger = logging.getLogger(__name__)
JOB_FUNCTION = "workers.notifier.deliver_notifications"
JOB_TIMEOUT = 600


class NotificationQueue(Protocol):
    """Where "send this build's notifications" jobs go; tests pass a recording fake."""

    def enqueue(self, build_id: str, *, delay: float = 0.0) -> None:
        """Queue a job for the build's notifications, now or in `delay` seconds."""


class RQNotificationQueue:
    """The real queue: RQ jobs on `notifications` (delayed ones need the RQ scheduler, which
    the notifier runs)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.queue = Queue(NOTIFY_QUEUE_NAME, connection=redis)

    def enqueue(self, build_id: str, *, delay: float = 0.0) -> None:
        """Queue the job; several jobs for one build are harmless (rows are claimed)."""
        options = {"job_timeout": JOB_TIMEOUT, "result_ttl": 300, "failure_ttl": 86400,
                   "description": f"notifications of build {build_id}"}
        if delay > 0:
            self.queue.enqueue_in(timedelta(seconds=delay), JOB_FUNCTION, build_id, **options)
        else:  # one Redis round trip (RQ alone makes two)
            with self.redis.pipeline() as pipe:
                self.queue.enqueue(JOB_FUNCTION, build_id, pipeline=pipe, **options)
                pipe.execute()


def enqueue_moved(queue: NotificationQueue) -> Callable[[list[str]], None]:
    """The after-commit callback that queues a notification job per moved build."""

    def enqueue(build_ids: list[str]) -> None:
        for build_id in build_ids:
            try:
                queue.enqueue(build_id)
            except Exception:  # noqa: BLE001 - Redis down: the notifier's sweep enqueues it
                logger.warning("could not enqueue the notifications of build %s; the "
                               "notifier's sweep will", build_id, exc_info=True)
                return

    return enqueue
