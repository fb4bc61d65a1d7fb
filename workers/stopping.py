"""Stopping a build that is cancelled or times out: its builder first, else the work-horse.

The watchdog (workers/watchdog.py) calls a BuildStopper. While a builder builds, the stopper asks
it to stop (BuildKit ends the CLI's process group; the engine then stops the RUN step and removes
its container), so the pipeline unwinds and cleans up as after any failure. When the builder
cannot stop by itself (classic), when nothing is building (clone, hooks, push), or when the
pipeline has not ended `grace` seconds after a stop, the work-horse is ended at once (`kill`),
which takes every CLI and hook with it (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from workers.build_spec import BuildStopped, ImageBuilder
from workers.watchdog import kill_this_process

STOP_GRACE = 10.0


class BuildStopper:
    """What the watchdog calls to stop one build; the pipeline marks when a builder runs."""

    def __init__(self, *, kill: Callable[[], None] = kill_this_process,
                 grace: float = STOP_GRACE) -> None:
        self.kill = kill
        self.grace = grace
        self._lock = threading.Lock()
        self._builder: ImageBuilder | None = None
        self._timer: threading.Timer | None = None
        self._requested = False

    @property
    def requested(self) -> bool:
        """Whether the build was asked to stop."""
        with self._lock:
            return self._requested

    def check(self) -> None:
        """Raise BuildStopped once the build was asked to stop (between phases)."""
        if self.requested:
            raise BuildStopped("the build was stopped")

    @contextmanager
    def building(self, builder: ImageBuilder) -> Iterator[None]:
        """While the block runs, stopping the build stops `builder`."""
        with self._lock:
            if self._requested:
                raise BuildStopped("the build was stopped")
            self._builder = builder
        try:
            yield
        finally:
            with self._lock:
                self._builder = None

    def __call__(self) -> None:
        """Stop the build: through its builder when one runs and can, else end the process."""
        with self._lock:
            self._requested = True
            builder = self._builder
        if builder is not None and builder.stop():
            timer = threading.Timer(self.grace, self.kill)
            timer.daemon = True
            with self._lock:
                self._timer = timer
            timer.start()
            return
        self.kill()

    def close(self) -> None:
        """The build ended: no fallback kill any more."""
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
