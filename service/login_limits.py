"""Rate limits on failed logins, per user name and per client address (in-process).

Guessing a password or the API token through the login form costs a failed attempt each;
after too many within the window, that user (or that address) waits. Each web process keeps
its own count, so with N processes an attacker gets at most N times the limit.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 300.0
PER_USER = 5
PER_ADDRESS = 20


class LoginLimiter:
    """Counts failed logins in a sliding window; `retry_after` says how long to wait."""

    def __init__(self, *, window: float = WINDOW_SECONDS, per_user: int = PER_USER,
                 per_address: int = PER_ADDRESS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.limits = {"user": per_user, "address": per_address}
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return deque()
        return times

    def retry_after(self, user: str, address: str) -> float:
        """Seconds until another attempt may be made (0 when one may be made now)."""
        with self._lock:
            now = self.clock()
            waits = [times[0] + self.window - now
                     for kind, value in (("user", user), ("address", address))
                     if len(times := self._recent((kind, value), now)) >= self.limits[kind]]
            return max(waits, default=0.0)

    def failed(self, user: str, address: str) -> None:
        """Count one failed attempt for the user and the address."""
        with self._lock:
            now = self.clock()
            for key in (("user", user), ("address", address)):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, user: str) -> None:
        """A successful login clears that user's failures."""
        with self._lock:
            self._failures.pop(("user", user), None)
