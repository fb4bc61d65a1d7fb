"""The notifier's safety net: every few seconds, enqueue builds whose notifications nobody
took (their job was lost, Redis was down, a sender died) (database and Redis I/O)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from notify.queue import NotificationQueue
from records.outbox import Outbox

logger = logging.getLogger(__name__)
INTERVAL = 2.0
GRACE = timedelta(seconds=5)
"""How long an event or notification may wait for its own job before the sweep enqueues it."""
REENQUEUE_AFTER = 30.0
"""Seconds before the sweep enqueues the same build again."""


class Sweeper:
    """Remembers what it enqueued recently, so a busy notifier's queue does not fill up."""

    def __init__(self, outbox: Outbox, queue: NotificationQueue, *,
                 grace: timedelta = GRACE) -> None:
        self.outbox = outbox
        self.queue = queue
        self.grace = grace
        self._recent: dict[str, float] = {}

    def sweep(self) -> list[str]:
        """One round: release dead senders' rows, enqueue builds with untaken work."""
        self.outbox.release_expired()
        now = time.monotonic()
        self._recent = {b: t for b, t in self._recent.items() if now - t < REENQUEUE_AFTER}
        enqueued: list[str] = []
        for build_id in self.outbox.due_builds(grace=self.grace):
            if build_id in self._recent:
                continue
            self.queue.enqueue(build_id)
            self._recent[build_id] = now
            enqueued.append(build_id)
        return enqueued

    def run(self, stopped: threading.Event, *, interval: float = INTERVAL) -> None:
        """Sweep every `interval` seconds until `stopped` is set."""
        while not stopped.wait(interval):
            try:
                enqueued = self.sweep()
            except Exception:  # noqa: BLE001 - database or Redis blip: next round
                logger.warning("notification sweep failed", exc_info=True)
                continue
            if enqueued:
                logger.info("notification sweep enqueued builds %s", enqueued)
