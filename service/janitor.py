"""Finds builds nobody will finish: lost workers, and queued builds whose job vanished."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask

from core.status import BuildStatus
from records.builds import BuildStore
from records.coordination import fail_lost_builds, queued_ids_before
from service.queueing import BuildQueue, enqueue_all

logger = logging.getLogger(__name__)
REQUEUE_AFTER = timedelta(seconds=30)
INTERVAL = 10.0


def sweep(store: BuildStore, queue: BuildQueue) -> tuple[list[str], list[str]]:
    """Fail builds with stale heartbeats; re-enqueue queued builds whose job is gone."""
    lost = fail_lost_builds(store)
    gone = queue.missing_jobs(queued_ids_before(store, age=REQUEUE_AFTER))
    missing = [b for b in store.get_builds(gone) if b.status is BuildStatus.QUEUED]
    enqueue_all(queue, missing)
    for build in missing:
        store.append_log(build.id, "Queued again: its job was lost from Redis.\n")
    return lost, [b.id for b in missing]


def start(app: Flask, *, interval: float = INTERVAL) -> threading.Thread:
    """Sweep every `interval` seconds in a daemon thread of this web process."""
    store = app.extensions["build_store"]
    queue = app.extensions["build_queue"]

    def loop() -> None:
        stopped = threading.Event()
        while not stopped.wait(interval):
            try:
                lost, requeued = sweep(store, queue)
            except Exception:  # noqa: BLE001 - try again next round (database or Redis blip)
                logger.exception("janitor sweep failed")
                continue
            if lost or requeued:
                logger.warning("janitor: lost builds %s, re-queued %s", lost, requeued)

    thread = threading.Thread(target=loop, name="autobuild-janitor", daemon=True)
    thread.start()
    return thread
