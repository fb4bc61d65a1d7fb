"""Real databases for the migration tests: fresh SQLite files and PostgreSQL databases.

The backends follow tests/records/conftest.py: SQLite always, PostgreSQL through
TEST_DATABASE_URL. Here a PostgreSQL case without it is reported, not dropped: skipped with the
command to run, and failed under CI (CI=true), where scripts/test always provides PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, inspect, make_url, text

from records.db import make_engine
from records.migrate import MIGRATIONS_DIR, head_revision
from tests.databases import drop_database

BACKENDS = ["sqlite", "postgresql"]
SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "db"
NO_POSTGRES = ("TEST_DATABASE_URL is not set: start PostgreSQL with "
               "`export TEST_DATABASE_URL=$(bash scripts/postgres.sh)` and run again")


def admin_url() -> str:
    """The PostgreSQL server the tests make their databases on (skip, or fail under CI)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(NO_POSTGRES + " (CI runs the PostgreSQL cases too)")
    pytest.skip(NO_POSTGRES)


@dataclass
class Databases:
    """Makes empty databases of one backend and drops them all at the end of the test."""

    backend: str
    tmp_path: Path
    engines: list[Engine] = field(default_factory=list)
    pg_names: list[str] = field(default_factory=list)

    def new_url(self) -> str:
        """The URL of a new, empty database."""
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp_path}/db-{uuid.uuid4().hex[:8]}.db"
        name = f"autobuild_test_{uuid.uuid4().hex[:10]}"
        self._admin(f'CREATE DATABASE "{name}"')
        self.pg_names.append(name)
        return make_url(admin_url()).set(database=name).render_as_string(hide_password=False)

    def engine(self, url: str | None = None) -> Engine:
        """An engine (records.db.make_engine) on `url`, or on a new empty database."""
        engine = make_engine(url or self.new_url())
        self.engines.append(engine)
        return engine

    def load_previous_release(self) -> Engine:
        """A new database holding the sample written by release 789ca48 (no alembic_version)."""
        url = self.new_url()
        # newline="": the logs in the dump hold "\r\n", which universal newlines would rewrite
        with open(SAMPLES / f"previous_release.{self.backend}.sql", encoding="utf-8",
                  newline="") as file:
            dump = file.read()
        if self.backend == "sqlite":
            with sqlite3.connect(make_url(url).database or "") as conn:
                conn.executescript(dump)
            conn.close()
        else:  # a connection of its own: the dump empties search_path for its session
            with psycopg.connect(libpq_url(url)) as conn:
                conn.execute(dump)  # type: ignore[call-overload]
        return self.engine(url)

    def close(self) -> None:
        """Dispose every engine and drop every PostgreSQL database made."""
        for engine in self.engines:
            engine.dispose()
        for name in self.pg_names:
            drop_database(name)

    def _admin(self, statement: str) -> None:
        admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(statement))
        finally:
            admin.dispose()


def make_databases(backend: str, tmp_path: Path) -> Databases:
    """A Databases factory; PostgreSQL skips (or fails under CI) without TEST_DATABASE_URL."""
    if backend == "postgresql":
        admin_url()
    return Databases(backend, tmp_path)


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as libpq (psycopg, pg_dump) spells it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def snapshot(engine: Engine) -> dict[str, dict[str, Any]]:
    """Every table's columns, keys, indexes and unique constraints, as the inspector sees them."""
    found: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        inspector = inspect(conn)
        for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
            found[table] = {
                "columns": [(c["name"], repr(c["type"]), c["nullable"], c.get("default"),
                             c.get("autoincrement")) for c in inspector.get_columns(table)],
                "primary key": inspector.get_pk_constraint(table),
                "foreign keys": sorted(map(repr, inspector.get_foreign_keys(table))),
                "indexes": sorted(map(repr, inspector.get_indexes(table))),
                "unique constraints": sorted(map(repr, inspector.get_unique_constraints(table))),
            }
    return found


def snapshot_differences(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """Lines naming each table property where `got` and `want` differ."""
    lines = []
    for table in sorted(set(got) | set(want)):
        if table not in got or table not in want:
            lines.append(f"table {table}: only in {'the first' if table in got else 'the second'}")
            continue
        for key, value in want[table].items():
            if got[table][key] != value:
                lines.append(f"{table} {key}:\n    got  {got[table][key]}\n    want {value}")
    return lines


NEXT_REVISION = "9999"
NEXT_MIGRATION = '''"""Test only: the next release adds a column (a name no real migration uses)."""

import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    recreate = "always" if op.get_bind().dialect.name == "sqlite" else "auto"
    with op.batch_alter_table("builds", recreate=recreate) as batch:
        batch.add_column(sa.Column("next_release_probe", sa.Integer, nullable=False,
                                   server_default="0"))
        batch.create_index("ix_builds_next_release_probe", ["next_release_probe"])


def downgrade() -> None:
    with op.batch_alter_table("builds") as batch:
        batch.drop_index("ix_builds_next_release_probe")
        batch.drop_column("next_release_probe")
'''


def next_release_migrations(tmp_path: Path, *, failing: bool = False) -> Path:
    """This code's migrations plus NEXT_REVISION on top, as the next release would ship them."""
    location = tmp_path / "next_release_migrations"
    shutil.copytree(MIGRATIONS_DIR, location, ignore=shutil.ignore_patterns("__pycache__"))
    migration = NEXT_MIGRATION.replace("{head}", head_revision())
    if failing:  # fails after its first change, as a migration with a bug would
        migration = migration.replace('        batch.create_index(', '        raise RuntimeError('
                                      '"the migration failed")\n        batch.create_index(')
    (location / "versions" / f"{NEXT_REVISION}_test_next_release.py").write_text(migration)
    return location
