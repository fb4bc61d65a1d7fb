"""Database plumbing shared by the stores: engine, UTC clock, ISO times, build ids."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, create_engine, event, func, make_url, text

from records.sqlite_writers import WriterTurns, turn_taking_connection

BUSY_TIMEOUT = 30.0
"""Seconds a SQLite statement waits for another process's write to finish before failing."""

Clock = Callable[[], datetime]
"""Where the stores get "now" from: `utcnow` in production, a stepping clock in tests."""


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as the API shows times (columns are always aware UTC)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def database_now() -> ColumnElement[Any]:
    """The database's own time (UTC), for times that processes on different machines compare:
    their clocks may disagree, the database's is one."""
    return func.now()


def database_ago(engine: Engine, seconds: float) -> ColumnElement[Any]:
    """The database's time `seconds` ago, in the form its own timestamps compare with."""
    if engine.dialect.name == "sqlite":
        return func.datetime("now", f"-{seconds:.3f} seconds")
    return func.now() - text(f"interval '{seconds:.3f} seconds'")


def new_build_id(now: datetime) -> str:
    """A short, URL-safe, unguessable build id that sorts roughly by creation time."""
    millis = int(now.timestamp() * 1000)
    return f"{millis:011x}{secrets.token_hex(4)}"


def make_engine(url: str, *, busy_timeout: float = BUSY_TIMEOUT) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout so web and workers share it,
    and its writers take turns (records/sqlite_writers.py)."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        turns = WriterTurns(database if database and database != ":memory:" else None)
        engine = create_engine(url, connect_args={
            "timeout": busy_timeout, "check_same_thread": False,
            "factory": turn_taking_connection(turns, busy_timeout)})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            # WAL persists in the file; switching needs a moment alone with it, which another
            # process may be taking at the same time: it then switches for us.
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                with suppress(sqlite3.OperationalError):
                    cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)
