"""Which workers listen on which queue right now, and how many jobs wait there (Redis I/O).

This is live capacity, read from RQ's own registries (its worker keys expire when a worker
stops heartbeating); a build's state still comes only from our database. Pages and the API ask
here why a queued build is not picked up: "no worker is listening on queue arm64".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from redis import Redis
from rq import Queue, Worker

from core.status import BuildStatus
from records.builds import BuildRecord

logger = logging.getLogger(__name__)
CACHE_SECONDS = 2.0
"""How long one snapshot serves a web process (a page and its API calls ask once)."""


@dataclass(frozen=True)
class ListeningWorker:
    """One live RQ worker: where it runs and what it is doing."""

    name: str
    hostname: str
    pid: int | None
    state: str
    queues: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The API's shape of a worker."""
        return {"name": self.name, "hostname": self.hostname, "pid": self.pid,
                "state": self.state, "queues": list(self.queues)}


@dataclass(frozen=True)
class QueueState:
    """One queue: the jobs waiting on it and the live workers listening on it."""

    name: str
    depth: int
    workers: tuple[ListeningWorker, ...]

    def to_dict(self) -> dict[str, Any]:
        """The API's shape of a queue."""
        return {"name": self.name, "depth": self.depth,
                "workers": [w.to_dict() for w in self.workers]}


@dataclass(frozen=True)
class QueueSnapshot:
    """Every queue asked about, at one moment."""

    queues: tuple[QueueState, ...]

    def listeners(self, queue: str) -> tuple[ListeningWorker, ...]:
        """The live workers listening on `queue`."""
        return next((q.workers for q in self.queues if q.name == queue), ())

    def waiting_reason(self, build: BuildRecord) -> str | None:
        """Why a queued build is not being picked up, or None (not queued, or workers are there)."""
        if build.status is not BuildStatus.QUEUED or self.listeners(build.plan.queue):
            return None
        return f"no worker is listening on queue {build.plan.queue}"


class QueueWatch(Protocol):
    """Where the web process reads live queue state; tests pass a fake."""

    def snapshot(self, names: Iterable[str]) -> QueueSnapshot | None:
        """The queues `names` plus every queue a live worker listens on; None when the queue
        cannot be read (Redis down): then nothing is said about waiting builds."""


class RQQueueWatch:
    """Reads RQ's worker registry and queue lengths, at most once per CACHE_SECONDS."""

    def __init__(self, redis: Redis, *, cache_seconds: float = CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.redis = redis
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, frozenset[str], QueueSnapshot | None] | None = None

    def snapshot(self, names: Iterable[str]) -> QueueSnapshot | None:
        """A fresh enough snapshot of `names` and the queues live workers listen on."""
        wanted = frozenset(names)
        with self._lock:
            now = self.clock()
            cached = self._cached
            if cached and cached[1] >= wanted and now - cached[0] < self.cache_seconds:
                return cached[2]
            snapshot = self._read(wanted)
            self._cached = (now, wanted, snapshot)
            return snapshot

    def _read(self, wanted: frozenset[str]) -> QueueSnapshot | None:
        try:
            workers = [ListeningWorker(
                name=w.name, hostname=str(w.hostname or "?"), pid=w.pid, state=w.get_state(),
                queues=tuple(w.queue_names())) for w in Worker.all(connection=self.redis)]
            names = sorted(wanted | {q for w in workers for q in w.queues})
            depths = {name: Queue(name, connection=self.redis).count for name in names}
        except Exception:  # noqa: BLE001 - live state is a hint; pages still answer without it
            logger.warning("cannot read the queues' live state from Redis", exc_info=True)
            return None
        return QueueSnapshot(tuple(
            QueueState(name, depths[name], tuple(w for w in workers if name in w.queues))
            for name in names))
