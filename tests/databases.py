"""Fresh test databases: SQLite always, PostgreSQL too when TEST_DATABASE_URL names a server.

`scripts/test` starts PostgreSQL (`scripts/postgres.sh`) and sets TEST_DATABASE_URL to a role
that may create databases; each PostgreSQL case gets a database of its own and never sees
another test's (or another run's) rows. Suites marked `both_databases` run on both backends
through the `database` (per test) or `stack_database` (per session: the integration suites'
shared worker) fixture's parameter, ids `sqlite` and `postgresql`.

A per-test database is a copy of one migrated template (CREATE DATABASE … TEMPLATE, a tenth
of a second), and is dropped in the background, so the matrix costs little more than the
tests themselves.
"""

from __future__ import annotations

import atexit
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache

import psycopg.errors
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from records.db import make_engine
from records.migrate import prepare
from tests.waiting import wait_until

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
BACKENDS = [SQLITE] + ([POSTGRESQL] if os.environ.get("TEST_DATABASE_URL") else [])
"""The backends a `both_databases` suite runs on here."""
_dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drop-test-databases")


def admin_url() -> str:
    """The PostgreSQL URL tests create databases with (TEST_DATABASE_URL)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        raise RuntimeError("TEST_DATABASE_URL is not set: run `export TEST_DATABASE_URL=$(bash "
                           "scripts/postgres.sh)` (scripts/test does)")
    return url


def _url(name: str) -> str:
    return admin_url().rsplit("/", 1)[0] + f"/{name}"


@cache
def _admin() -> Engine:
    return create_engine(admin_url(), isolation_level="AUTOCOMMIT", pool_size=1)


BUSY = (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse)


def _run_while_busy(statement: str, what: str) -> None:
    """Run an admin statement, again while an autovacuum worker (the superuser's, which FORCE
    may not end) is in the database it drops or copies."""
    def done() -> bool:
        try:
            with _admin().connect() as conn:
                conn.execute(text(statement))
        except DBAPIError as exc:
            if isinstance(exc.orig, BUSY):
                return False
            raise
        return True

    wait_until(done, 60, what, interval=0.5)


def drop_database(name: str) -> None:
    """Drop a test database, ending its connections."""
    _run_while_busy(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                    f"the test database {name} dropped")



@cache
def _template() -> str:
    """A database at the migrations' head, copied for each test (dropped at exit)."""
    name = f"autobuild_template_{uuid.uuid4().hex[:10]}"
    with _admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    atexit.register(drop_database, name)
    engine = make_engine(_url(name))
    try:
        prepare(engine, mode="auto")
    finally:
        engine.dispose()
    return name


@contextmanager
def fresh_postgres(prefix: str = "autobuild_test", *, migrated: bool = True) -> Iterator[str]:
    """The URL of a new PostgreSQL database of its own (at the schema's head, or empty when
    not `migrated`), dropped afterwards, also while processes still hold connections to it."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    template = f' TEMPLATE "{_template()}"' if migrated else ""
    _run_while_busy(f'CREATE DATABASE "{name}"{template}', f"the test database {name} made")
    try:
        yield _url(name)
    finally:
        _dropper.submit(drop_database, name)


atexit.register(_dropper.shutdown, wait=True)
