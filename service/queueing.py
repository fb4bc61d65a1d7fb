"""Enqueue builds on RQ (Redis I/O); the web process never imports the worker code.

Each build goes to the queue its plan names (`builds`, or a rule's `queue:`), where only the
workers started with `--queue <name>` take it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from redis import Redis
from rq import Callback, Queue
from rq.job import Job, JobStatus

from records.builds import BuildRecord

logger = logging.getLogger(__name__)
JOB_FUNCTION = "workers.jobs.run_build"
FAILURE_CALLBACK = "workers.jobs.mark_abandoned"
TIMEOUT_MARGIN = 120
MISSING_BATCH = 500


class BuildQueue(Protocol):
    """Where queued builds go; tests pass a recording fake."""

    def enqueue(self, build: BuildRecord) -> None:
        """Queue one build's job."""

    def discard(self, build_id: str) -> None:
        """Drop a build's job if it is still waiting (best effort: the worker re-checks)."""

    def has_job(self, build_id: str) -> bool:
        """Whether the queue still knows the build's job (False after Redis lost its data)."""

    def missing_jobs(self, build_ids: Sequence[str]) -> list[str]:
        """The builds among `build_ids` whose job the queue no longer knows."""


class RQBuildQueue:
    """The real queues: one RQ job per build, job id = build id, on the plan's queue."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def enqueue(self, build: BuildRecord) -> None:
        """Queue the build; the job's own timeout is the rule's timeout plus a margin. One
        Redis round trip (RQ alone makes two: the queue set, then the job)."""
        with self.redis.pipeline() as pipe:
            Queue(build.plan.queue, connection=self.redis).enqueue(
                JOB_FUNCTION,
                build.id,
                job_id=build.id,
                # the watchdog enforces the rule's timeout; a build may first wait for its turn
                job_timeout=2 * build.plan.timeout + TIMEOUT_MARGIN,
                result_ttl=86400,
                failure_ttl=7 * 86400,
                on_failure=Callback(FAILURE_CALLBACK),
                description=f"{build.repository} {build.ref} {build.commit[:7]}",
                pipeline=pipe,
            )
            pipe.execute()

    def discard(self, build_id: str) -> None:
        """Cancel the job if RQ still holds it queued."""
        try:
            job = Job.fetch(build_id, connection=self.redis)
            if job.get_status(refresh=False) in (JobStatus.QUEUED, JobStatus.SCHEDULED,
                                                 JobStatus.DEFERRED):
                job.cancel()
        except Exception:  # noqa: BLE001 - the worker checks the database before starting
            logger.info("could not discard the job of build %s", build_id, exc_info=True)

    def has_job(self, build_id: str) -> bool:
        """Whether RQ still has the build's job."""
        return bool(Job.exists(build_id, connection=self.redis))

    def missing_jobs(self, build_ids: Sequence[str]) -> list[str]:
        """The builds whose RQ job is gone, asked in pipelined batches (one round trip per
        MISSING_BATCH builds, not one per build)."""
        missing: list[str] = []
        for start in range(0, len(build_ids), MISSING_BATCH):
            batch = build_ids[start:start + MISSING_BATCH]
            with self.redis.pipeline(transaction=False) as pipe:
                for build_id in batch:
                    pipe.exists(Job.key_for(build_id))
                found = pipe.execute()
            missing += [b for b, exists in zip(batch, found, strict=True) if not exists]
        return missing


def enqueue_all(queue: BuildQueue, builds: list[BuildRecord]) -> None:
    """Queue every build; on a Redis failure they stay queued in the database (the outbox)."""
    for build in builds:
        try:
            queue.enqueue(build)
        except Exception:
            logger.exception("could not enqueue build %s; it stays queued in the database",
                             build.id)
