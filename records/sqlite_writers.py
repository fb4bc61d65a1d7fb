"""SQLite writers take turns: one write transaction at a time per database, queued, across the
threads and processes of one machine (file and thread locks).

SQLite lets one writer in at a time. A writer that finds the database locked sleeps in
SQLite's busy handler (1, 2, 5 … 100 ms) and tries again, so under concurrent webhooks the
unlucky ones wait far longer than any write takes (p99 of seconds at 8 connections). Here a
connection takes the database's turn before its first write and gives it back at commit or
rollback: threads of one process queue on a lock and are woken the moment it is free; between
processes a lock file (`<database>-writers.lock`, flock) is polled every millisecond at most.
SQLite's own locking and busy timeout stay underneath, for writers that do not take turns.
Nothing about durability changes: commits are the same commits, only their order is fair.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import weakref
from typing import Any

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
"""The statements that make Python's sqlite3 open a write transaction."""
POLL = 0.001
LOCK_SUFFIX = "-writers.lock"
_ALL: weakref.WeakSet[WriterTurns] = weakref.WeakSet()


class WriterTurns:
    """The turn to write one database: a thread lock, then the database's lock file."""

    def __init__(self, database: str | None) -> None:
        self.path = database + LOCK_SUFFIX if database else None
        self._reset()
        _ALL.add(self)

    def _reset(self) -> None:
        """Fresh locks (also in a forked child, which must not inherit a held turn)."""
        self.lock = threading.Lock()
        self.fd: int | None = None

    def take(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the turn; False when it did not come."""
        deadline = time.monotonic() + timeout
        if not self.lock.acquire(timeout=timeout):
            return False
        if self.path is None:
            return True
        try:
            if self.fd is None:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            while True:
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        break
                    time.sleep(POLL)
        except BaseException:
            self.lock.release()
            raise
        self.lock.release()
        return False

    def give_back(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.lock.release()


def _after_fork_in_child() -> None:
    for turns in list(_ALL):
        turns._reset()  # the child's copy of a lock another thread held would never open


os.register_at_fork(after_in_child=_after_fork_in_child)


def turn_taking_connection(turns: WriterTurns, busy_timeout: float) -> type[sqlite3.Connection]:
    """A sqlite3 connection class (sqlite3.connect's `factory`) whose write transactions take
    `turns`: from the first INSERT/UPDATE/DELETE until the transaction ends."""

    class TurnTakingCursor(sqlite3.Cursor):
        def execute(self, sql: str, parameters: Any = (), /) -> TurnTakingCursor:
            connection: TurnTakingConnection = self.connection  # type: ignore[assignment]
            connection.take_turn(sql)
            try:
                return super().execute(sql, parameters)
            finally:
                connection.give_back_unless_writing()

        def executemany(self, sql: str, parameters: Any, /) -> TurnTakingCursor:
            connection: TurnTakingConnection = self.connection  # type: ignore[assignment]
            connection.take_turn(sql)
            try:
                return super().executemany(sql, parameters)
            finally:
                connection.give_back_unless_writing()

    class TurnTakingConnection(sqlite3.Connection):
        holds_turn = False

        def cursor(self, factory: Any = TurnTakingCursor) -> Any:
            return super().cursor(factory)

        def take_turn(self, sql: str) -> None:
            if self.holds_turn or not sql.lstrip()[:7].upper().startswith(WRITES):
                return
            if not turns.take(busy_timeout):
                raise sqlite3.OperationalError("database is locked")
            self.holds_turn = True

        def give_back_unless_writing(self) -> None:
            if self.holds_turn and not self.in_transaction:
                self.give_back()

        def give_back(self) -> None:
            if self.holds_turn:
                self.holds_turn = False
                turns.give_back()

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self.give_back_unless_writing()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self.give_back_unless_writing()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self.give_back()

    return TurnTakingConnection
