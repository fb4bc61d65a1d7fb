"""How many refused webhook deliveries a web process writes to the delivery log.

Anyone can POST to /hooks/<forge> unsigned, so recording every refusal would let a stranger
fill the database and the dashboard. Each process records at most `per_minute` refusals (a
token bucket, so bursts of a few still show); the rest are answered the same way and only
counted (autobuild_webhook_refusals_unrecorded_total in /metrics).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

DEFAULT_PER_MINUTE = 60


class RefusalBudget:
    """A token bucket of delivery-log writes for refused deliveries."""

    def __init__(self, per_minute: int = DEFAULT_PER_MINUTE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.tokens = float(per_minute)
        self.clock = clock
        self.updated = clock()
        self.unrecorded = 0
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """Whether one more refusal may be recorded now (False counts it as unrecorded)."""
        with self._lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return True
            self.unrecorded += 1
            return False
