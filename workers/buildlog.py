"""The build log writer: output reaches the database as it is printed, secrets masked.

With an `interval`, output is gathered and written at most that often (and at once by flush()):
a BuildKit build prints a line per event, and one database transaction per line would cost more
than the build itself, while the build page still follows the log live. Masking runs on what is
written, so a secret printed in two pieces between two writes is still masked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from records.builds import BuildStore

MASK = "***"
FLUSH_INTERVAL = 0.2
"""Seconds output may wait before it is written, for logs that gather it."""


class BuildLog:
    """Appends build output to the store; every known secret is replaced by ***."""

    def __init__(self, store: BuildStore, build_id: str, *, secrets: Iterable[str] = (),
                 interval: float = 0.0) -> None:
        self.store = store
        self.build_id = build_id
        self.secrets = sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True)
        self.interval = interval
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._timer: threading.Timer | None = None

    def mask(self, text: str) -> str:
        """Text with every secret replaced by ***."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def __call__(self, text: str) -> None:
        if not self.interval:
            self.store.append_log(self.build_id, self.mask(text))
            return
        with self._lock:
            self._pending.append(text)
            if self._timer is None:
                self._timer = threading.Timer(self.interval, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Write what was gathered (before a status change, and when the build ends)."""
        with self._lock:  # held while writing, so that writes keep their order
            timer, self._timer = self._timer, None
            if timer is not None:
                timer.cancel()
            text, self._pending = "".join(self._pending), []
            if text:
                self.store.append_log(self.build_id, self.mask(text))
