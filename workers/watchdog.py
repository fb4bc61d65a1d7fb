"""Runs beside a build in the work-horse: heartbeats, and stops the build when it is cancelled,
times out, or the worker process that owns it dies (database I/O, signals)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from core.status import BuildStatus
from records.builds import BuildStore
from records.coordination import heartbeat
from workers.process_groups import end_this_build

logger = logging.getLogger(__name__)
WORKER_LOST = "worker lost: the process running this build died before it finished"
HEARTBEAT_INTERVAL = 1.0


def kill_this_process() -> None:
    """End the work-horse at once, with every process the build started (hooks, git, CLIs);
    the engine cancels a build whose client connection drops."""
    end_this_build()


class Watchdog:
    """A daemon thread that polls the build's row once a second while the build runs."""

    def __init__(self, store: BuildStore, build_id: str, *, timeout: int,
                 log: Callable[[str], None], stop: Callable[[], None] = kill_this_process,
                 interval: float = HEARTBEAT_INTERVAL) -> None:
        self.store = store
        self.build_id = build_id
        self.timeout = timeout
        self.log = log
        self.stop = stop
        self.interval = interval
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"watchdog-{build_id}",
                                        daemon=True)
        self._parent = os.getppid()
        self._deadline = time.monotonic() + timeout

    def start(self) -> None:
        """Begin watching."""
        self._thread.start()

    def close(self) -> None:
        """Stop watching (before the job records its own final status)."""
        self._done.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            try:
                reason = self._check()
            except Exception:  # noqa: BLE001 - a database blip must not kill the build
                logger.exception("watchdog of build %s could not check it", self.build_id)
                continue
            if reason is not None and not self._done.is_set():
                logger.warning("stopping build %s: %s", self.build_id, reason)
                self.stop()
                return

    def _check(self) -> str | None:
        status = heartbeat(self.store, self.build_id)
        if status is BuildStatus.CANCELLED:
            self.log("\nBuild cancelled: stopping it now.\n")
            return "cancelled"
        if status is None or status.is_terminal():
            return f"the build is {status.value if status else 'gone'}"
        if time.monotonic() > self._deadline:
            message = f"build timed out: it ran longer than its timeout of {self.timeout} s"
            if self.store.set_status(self.build_id, BuildStatus.TIMED_OUT, error=message):
                self.log(f"\nBuild timed out after {self.timeout} s (the rule's `timeout`); "
                         "stopping it now.\n")
            return "timed out"
        if os.getppid() != self._parent:
            if self.store.set_status(self.build_id, BuildStatus.FAILED, error=WORKER_LOST):
                self.log(f"\n{WORKER_LOST}\n")
            return "worker lost"
        return None
