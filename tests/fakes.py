"""Test doubles that subclass or satisfy our ports and record what they were asked to do."""

from __future__ import annotations

from records.builds import BuildRecord


class RecordingQueue:
    """A BuildQueue that records enqueued builds instead of talking to Redis."""

    def __init__(self, *, fail: bool = False) -> None:
        self.enqueued: list[str] = []
        self.fail = fail

    def enqueue(self, build: BuildRecord) -> None:
        """Record the build id (or fail like an unreachable Redis)."""
        if self.fail:
            raise ConnectionError("redis is down")
        self.enqueued.append(build.id)
