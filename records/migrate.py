"""Schema migrations: adopt, upgrade and check the database against this code (database I/O).

    AutobuildError (core.errors)
    └── MigrationError              the schema cannot be brought to, or found at, this code's head
        ├── SchemaMismatchError     the database's revision is not this code's head;
        │                           .state (empty, unversioned, older, newer), .current, .head
        └── UnrecognisedSchemaError our tables exist without a revision and differ from the
                                    baseline, so they are not adopted; .differences lists how

Upgrades hold a lock while they migrate (PostgreSQL: pg_advisory_xact_lock; SQLite: flock on
`<database file>.migrate-lock`) and read the revision again once they hold it, so web processes
and workers starting together migrate once and never race to create a table.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, inspect, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from core.errors import AutobuildError
from records.migrations.compare import schema_differences

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
OUR_TABLES = frozenset({"builds", "build_logs", "deliveries"})
MODES = ("check", "auto")
PG_LOCK_KEY = 0x4175746F62756C64  # "Autobuld": the advisory lock id of Autobuild's migrations
LOCK_SUFFIX = ".migrate-lock"
UPGRADE_HINT = ("run `autobuild db upgrade`, or set AUTOBUILD_DB_UPGRADE=auto to upgrade at "
                "start-up")


class MigrationError(AutobuildError):
    """The database schema cannot be brought to, or found at, this code's head."""


class SchemaState(StrEnum):
    """How a database's schema stands against this code's head revision."""

    EMPTY = "empty"  # none of our tables
    UNVERSIONED = "unversioned"  # our tables, made before migrations (no alembic_version)
    OLDER = "older"  # a revision this code can upgrade from
    NEWER = "newer"  # a revision this code does not know: written by newer code


class SchemaMismatchError(MigrationError):
    """The database's schema revision is not this code's head; the message says what to do."""

    def __init__(self, message: str, *, state: SchemaState, current: str | None,
                 head: str) -> None:
        super().__init__(message)
        self.state = state
        self.current = current
        self.head = head


class UnrecognisedSchemaError(MigrationError):
    """Our tables exist without a revision but differ from the baseline: not adopted."""

    def __init__(self, message: str, *, differences: list[str]) -> None:
        super().__init__(message)
        self.differences = differences


@dataclass(frozen=True)
class UpgradeResult:
    """What `upgrade` did: the revision before (None: empty or adopted) and after."""

    before: str | None
    after: str
    adopted: bool = False

    def describe(self) -> str:
        """One line for people: what changed."""
        if self.adopted:
            return ("adopted an existing database made before migrations, then upgraded to "
                    f"{self.after}")
        if self.before is None:
            return f"upgraded an empty database to {self.after}"
        if self.before == self.after:
            return f"already at {self.after}"
        return f"upgraded from {self.before} to {self.after}"


def alembic_config(connection: Connection | None = None, *,
                   script_location: Path = MIGRATIONS_DIR,
                   target_metadata: MetaData | None = None) -> Config:
    """An Alembic Config built in code (no alembic.ini): env.py migrates on `connection`."""
    config = Config()
    config.set_main_option("script_location", str(script_location).replace("%", "%%"))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    config.attributes["target_metadata"] = target_metadata
    return config


@functools.cache
def script_directory(script_location: Path = MIGRATIONS_DIR) -> ScriptDirectory:
    """The migration scripts (read once per process)."""
    return ScriptDirectory.from_config(alembic_config(script_location=script_location))


def head_revision(*, script_location: Path = MIGRATIONS_DIR) -> str:
    """The newest revision this code knows; the migrations must form one line."""
    heads = script_directory(script_location).get_heads()
    if len(heads) != 1:
        raise MigrationError(f"the migrations in {script_location} have {len(heads)} heads "
                             f"({', '.join(heads) or 'none'}); they must form one line")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    """The database's revision, or None when it has none; one query when it has one."""
    query = text("SELECT version_num FROM alembic_version")
    with engine.connect() as conn:
        try:
            versions = list(conn.execute(query).scalars())
        except (OperationalError, ProgrammingError):
            conn.rollback()
            if not inspect(conn).has_table("alembic_version"):
                return None
            # another process's migration committed it meanwhile (or reading it fails: raise)
            versions = list(conn.execute(query).scalars())
    if len(versions) > 1:
        raise MigrationError(f"{_name(engine)} records several schema revisions "
                             f"({', '.join(versions)}); Autobuild's migrations form one line")
    return versions[0] if versions else None


def check(engine: Engine, *, script_location: Path = MIGRATIONS_DIR) -> None:
    """Return when the database is at this code's head; raise SchemaMismatchError otherwise."""
    head = head_revision(script_location=script_location)
    current = current_revision(engine)
    if current != head:
        raise _mismatch(engine, current, head, script_location)


def prepare(engine: Engine, *, mode: str = "check",
            script_location: Path = MIGRATIONS_DIR) -> None:
    """Start-up gate: "check" refuses a database not at head, "auto" upgrades it first."""
    if mode not in MODES:
        raise ValueError(f"AUTOBUILD_DB_UPGRADE must be one of {', '.join(MODES)}, got {mode!r}")
    if current_revision(engine) == head_revision(script_location=script_location):
        return
    if mode == "auto":
        upgrade(engine, script_location=script_location)
    check(engine, script_location=script_location)


def upgrade(engine: Engine, *, script_location: Path = MIGRATIONS_DIR) -> UpgradeResult:
    """Bring an empty, pre-migration or older database to head; safe in concurrent processes."""
    head = head_revision(script_location=script_location)
    if current_revision(engine) == head:
        return UpgradeResult(before=head, after=head)
    with migration_lock(engine) as conn:
        result = _upgrade_locked(conn, _name(engine), head, script_location)
    if result.before != result.after:
        logger.info("database schema: %s", result.describe())
    return result


def _upgrade_locked(conn: Connection, name: str, head: str,
                    script_location: Path) -> UpgradeResult:
    """The upgrade itself, under the lock: the revision is read again, as another may be done."""
    before = MigrationContext.configure(conn).get_current_revision()
    if before == head:
        return UpgradeResult(before=head, after=head)
    script = script_directory(script_location)
    config = alembic_config(conn, script_location=script_location)
    adopted = False
    if before is None and _our_tables(conn):
        _require_baseline(conn, name, script)
        command.stamp(config, _base(script))
        adopted = True
    elif before is not None and not _knows(script, before):
        raise _mismatch_newer(name, before, head)
    command.upgrade(config, "head")
    after = MigrationContext.configure(conn).get_current_revision()
    if after != head:
        raise MigrationError(f"{name}: upgrading ended at {after}, not at head {head}")
    return UpgradeResult(before=None if adopted else before, after=head, adopted=adopted)


def _require_baseline(conn: Connection, name: str, script: ScriptDirectory) -> None:
    """Refuse to adopt tables that differ from the baseline migration's."""
    base = script.get_revision(_base(script))
    assert base is not None
    expected: MetaData = base.module.baseline_metadata()
    differences = schema_differences(conn, expected)
    if differences:
        raise UnrecognisedSchemaError(
            f"{name} has Autobuild tables but no schema revision, and they differ from the "
            f"schema migrations start from (revision {base.revision}): "
            + "; ".join(differences)
            + ". Nothing was changed. Restore a backup made by the previous release, or make the "
            "tables match, then run `autobuild db upgrade` again.",
            differences=differences,
        )


def _base(script: ScriptDirectory) -> str:
    bases = script.get_bases()
    if len(bases) != 1:
        raise MigrationError(f"the migrations have {len(bases)} bases; they must form one line")
    return bases[0]


def _knows(script: ScriptDirectory, revision: str) -> bool:
    return any(known.revision == revision for known in script.walk_revisions())


def _our_tables(conn: Connection) -> frozenset[str]:
    return OUR_TABLES & set(inspect(conn).get_table_names())


def _name(engine: Engine) -> str:
    return f"the database {engine.url.render_as_string(hide_password=True)}"


def _mismatch(engine: Engine, current: str | None, head: str,
              script_location: Path) -> SchemaMismatchError:
    """The error for a database at `current` while this code is at `head`, saying what to do."""
    name = _name(engine)
    if current is None:
        with engine.connect() as conn:
            tables = _our_tables(conn)
        if not tables:
            return SchemaMismatchError(
                f"{name} is empty (it has no Autobuild tables): {UPGRADE_HINT}",
                state=SchemaState.EMPTY, current=None, head=head)
        return SchemaMismatchError(
            f"{name} has Autobuild tables made before schema migrations (no alembic_version): "
            f"{UPGRADE_HINT}; that adopts it and upgrades it to {head}",
            state=SchemaState.UNVERSIONED, current=None, head=head)
    if not _knows(script_directory(script_location), current):
        return _mismatch_newer(name, current, head)
    return SchemaMismatchError(
        f"{name} is at schema revision {current}, older than this code's {head}: {UPGRADE_HINT}",
        state=SchemaState.OLDER, current=current, head=head)


def _mismatch_newer(name: str, current: str, head: str) -> SchemaMismatchError:
    return SchemaMismatchError(
        f"{name} is at schema revision {current}, which this code does not know (its newest is "
        f"{head}): the database was upgraded by newer Autobuild code; upgrade this "
        "installation's code to that release (databases are not downgraded)",
        state=SchemaState.NEWER, current=current, head=head)


@contextmanager
def migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction, held by one migrating process at a time."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
            yield conn
        return
    if engine.dialect.name != "sqlite":
        logger.warning("no migration lock for %s: migrate from one process at a time",
                       engine.dialect.name)
        with engine.begin() as conn:
            yield conn
        return
    database = engine.url.database or ":memory:"
    in_memory = database == ":memory:" or "mode=memory" in str(engine.url)  # one process only
    lock = nullcontext() if in_memory else _file_lock(Path(database + LOCK_SUFFIX).absolute())
    with lock, _sqlite_migration_connection(engine) as conn:
        yield conn


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive flock on `path` (created if missing, never removed: removing one races)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def _sqlite_migration_connection(engine: Engine) -> Iterator[Connection]:
    """Foreign keys off while migrating (batch mode copies tables), then checked and back on."""
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction
        conn.commit()
        try:
            with conn.begin():
                yield conn
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise MigrationError(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()
