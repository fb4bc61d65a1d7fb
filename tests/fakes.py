"""Test doubles that subclass or satisfy our ports and record what they were asked to do."""

from __future__ import annotations

from records.builds import BuildRecord


class RecordingQueue:
    """A BuildQueue that records enqueued builds instead of talking to Redis."""

    def __init__(self, *, fail: bool = False) -> None:
        self.enqueued: list[str] = []
        self.discarded: list[str] = []
        self.fail = fail

    def enqueue(self, build: BuildRecord) -> None:
        """Record the build id (or fail like an unreachable Redis)."""
        if self.fail:
            raise ConnectionError("redis is down")
        self.enqueued.append(build.id)

    def discard(self, build_id: str) -> None:
        """Record that the build's job was dropped."""
        self.discarded.append(build_id)

    def has_job(self, build_id: str) -> bool:
        """Jobs are 'lost' when the test empties `enqueued` (like Redis restarting empty)."""
        return build_id in self.enqueued
