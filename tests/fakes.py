"""Test doubles that subclass or satisfy our ports and record what they were asked to do."""

from __future__ import annotations

from collections.abc import Mapping

from notify.http import HttpAnswer, HttpFailure
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


class RecordingNotificationQueue:
    """A NotificationQueue that records (build id, delay) instead of talking to Redis."""

    def __init__(self, *, fail: bool = False) -> None:
        self.enqueued: list[tuple[str, float]] = []
        self.fail = fail

    def enqueue(self, build_id: str, *, delay: float = 0.0) -> None:
        """Record the job (or fail like an unreachable Redis)."""
        if self.fail:
            raise ConnectionError("redis is down")
        self.enqueued.append((build_id, delay))


class RecordingHttpClient:
    """An HttpClient that records each POST and answers from a script (default: 201)."""

    def __init__(self, *answers: HttpAnswer | HttpFailure) -> None:
        self.answers = list(answers)
        self.posts: list[tuple[str, dict[str, str], bytes]] = []

    def post(self, url: str, *, headers: Mapping[str, str], body: bytes) -> HttpAnswer:
        """Record the request; answer the next scripted answer, or raise a scripted failure."""
        self.posts.append((url, dict(headers), body))
        answer = self.answers.pop(0) if self.answers else HttpAnswer(201, "Created")
        if isinstance(answer, HttpFailure):
            raise answer
        return answer
