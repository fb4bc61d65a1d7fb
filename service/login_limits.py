"""Rate limits on failed logins, per user name and per client address.

Guessing a password or the API token through the login form costs a failed attempt each;
after too many within the window, that user (or that address) waits. The web process counts
in Redis (SharedLoginLimiter), so every process and host behind a load balancer shares one
count; while Redis does not answer, each process counts on its own (LoginLimiter), so with N
processes an attacker then gets at most N times the limit.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

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


class SharedLoginLimiter:
    """LoginLimiter's limits, counted in Redis: one sorted set of failure times per user and per
    address (names hashed, so a stranger's input never shapes a key), trimmed to the limit and
    expiring with the window. Falls back to an in-process LoginLimiter while Redis is down."""

    PREFIX = "autobuild:login-failures:"

    def __init__(self, redis: Redis, *, window: float = WINDOW_SECONDS, per_user: int = PER_USER,
                 per_address: int = PER_ADDRESS,
                 clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.window = window
        self.limits = {"user": per_user, "address": per_address}
        self.clock = clock
        self.fallback = LoginLimiter(window=window, per_user=per_user, per_address=per_address)

    def _key(self, kind: str, value: str) -> str:
        return self.PREFIX + kind + ":" + hashlib.sha256(value.encode()).hexdigest()[:32]

    def _keys(self, user: str, address: str) -> dict[str, str]:
        return {"user": self._key("user", user), "address": self._key("address", address)}

    def retry_after(self, user: str, address: str) -> float:
        """Seconds until another attempt may be made (0 when one may be made now)."""
        now = self.clock()
        keys = self._keys(user, address)
        try:
            with self.redis.pipeline() as pipe:
                for key in keys.values():
                    pipe.zremrangebyscore(key, 0, now - self.window)
                    pipe.zrange(key, 0, 0, withscores=True)
                    pipe.zcard(key)
                answers = pipe.execute()
        except RedisError:
            logger.warning("login limits: Redis does not answer; counting in this process")
            return self.fallback.retry_after(user, address)
        waits = []
        for i, kind in enumerate(keys):
            oldest, count = answers[3 * i + 1], answers[3 * i + 2]
            if count >= self.limits[kind] and oldest:
                waits.append(float(oldest[0][1]) + self.window - now)
        return max([*waits, self.fallback.retry_after(user, address)], default=0.0)

    def failed(self, user: str, address: str) -> None:
        """Count one failed attempt for the user and the address."""
        now = self.clock()
        try:
            with self.redis.pipeline() as pipe:
                for kind, key in self._keys(user, address).items():
                    pipe.zadd(key, {f"{now!r}-{uuid.uuid4().hex[:8]}": now})
                    pipe.zremrangebyrank(key, 0, -(self.limits[kind] + 1))
                    pipe.expire(key, int(self.window) + 1)
                pipe.execute()
        except RedisError:
            logger.warning("login limits: Redis does not answer; counting in this process")
            self.fallback.failed(user, address)

    def succeeded(self, user: str) -> None:
        """A successful login clears that user's failures."""
        self.fallback.succeeded(user)
        try:
            self.redis.delete(self._key("user", user))
        except RedisError:
            logger.warning("login limits: Redis does not answer; cannot clear %r's failures",
                           user)
