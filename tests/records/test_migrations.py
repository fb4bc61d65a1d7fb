"""Schema migrations on real SQLite files and PostgreSQL databases: head, adoption, checks."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, func, select, text

from records import migrate
from records.db import make_engine
from records.migrate import SchemaMismatchError, SchemaState, UnrecognisedSchemaError
from records.migrations.compare import schema_differences
from records.schema import builds, metadata
from tests.records.migration_support import (
    BACKENDS,
    NEXT_REVISION,
    Databases,
    make_databases,
    next_release_migrations,
    snapshot,
    snapshot_differences,
)


@pytest.fixture(params=BACKENDS)
def dbs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    """Fresh databases of each backend, dropped after the test."""
    databases = make_databases(request.param, tmp_path)
    yield databases
    databases.close()


def assert_schema_is_records_schema(dbs: Databases, engine: Engine) -> None:
    """`engine`'s schema is what create_all of records/schema.py makes, in every detail."""
    with engine.connect() as conn:
        differences = schema_differences(conn, metadata)
    assert not differences, (
        "the migrations' head differs from records/schema.py; write a migration for:\n  "
        + "\n  ".join(differences))
    reference = dbs.engine()
    metadata.create_all(reference)
    details = snapshot_differences(snapshot(engine), snapshot(reference))
    assert not details, ("migrated schema (got) differs from metadata.create_all (want):\n"
                         + "\n".join(details))


def test_head_is_exactly_records_schema(dbs: Databases) -> None:
    engine = dbs.engine()
    head = migrate.head_revision()
    assert migrate.upgrade(engine).describe() == f"upgraded an empty database to {head}"
    assert_schema_is_records_schema(dbs, engine)


def test_upgrade_twice_does_nothing_the_second_time(dbs: Databases) -> None:
    engine = dbs.engine()
    head = migrate.head_revision()
    migrate.upgrade(engine)
    again = migrate.upgrade(engine)
    assert (again.before, again.after, again.adopted) == (head, head, False)
    assert again.describe() == f"already at {head}"
    assert migrate.current_revision(engine) == head


def test_previous_release_database_is_adopted_then_matches_head(dbs: Databases) -> None:
    engine = dbs.load_previous_release()
    with pytest.raises(SchemaMismatchError) as refused:
        migrate.check(engine)
    assert refused.value.state is SchemaState.UNVERSIONED
    assert "`autobuild db upgrade`" in str(refused.value)
    result = migrate.upgrade(engine)
    head = migrate.head_revision()
    assert (result.before, result.after, result.adopted) == (None, head, True)
    assert result.describe() == ("adopted an existing database made before migrations, then "
                                 f"upgraded to {head}")
    migrate.check(engine)
    assert_schema_is_records_schema(dbs, engine)


DRIFTS = [
    pytest.param("DROP TABLE deliveries", "table deliveries is missing", id="table-missing"),
    pytest.param("ALTER TABLE builds DROP COLUMN heartbeat_at",
                 "column builds.heartbeat_at", id="column-missing"),
    pytest.param("DROP INDEX ix_builds_status", "index ix_builds_status on builds(status) is "
                 "missing", id="index-missing"),
    pytest.param("ALTER TABLE builds ADD COLUMN notes TEXT",
                 "column builds.notes (TEXT) is there but not expected", id="column-extra"),
]


@pytest.mark.parametrize(("drift", "difference"), DRIFTS)
def test_tables_unlike_the_baseline_are_refused_untouched(
    dbs: Databases, drift: str, difference: str
) -> None:
    engine = dbs.load_previous_release()
    with engine.begin() as conn:
        conn.execute(text(drift))
    with pytest.raises(UnrecognisedSchemaError) as refused:
        migrate.upgrade(engine)
    assert any(difference in line for line in refused.value.differences), refused.value.differences
    message = str(refused.value)
    assert difference in message and "no schema revision" in message
    assert "Nothing was changed" in message
    assert migrate.current_revision(engine) is None
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(builds)).scalar_one() == 9


def test_an_older_revision_is_upgraded_and_then_newer_than_this_code(
    dbs: Databases, tmp_path: Path
) -> None:
    next_release = next_release_migrations(tmp_path)
    engine = dbs.load_previous_release()
    migrate.upgrade(engine)
    head = migrate.head_revision()
    with pytest.raises(SchemaMismatchError) as older:
        migrate.check(engine, script_location=next_release)
    assert (older.value.state, older.value.current, older.value.head) == (
        SchemaState.OLDER, head, NEXT_REVISION)
    assert (f"is at schema revision {head}, older than this code's {NEXT_REVISION}"
            in str(older.value))
    assert "`autobuild db upgrade`" in str(older.value)
    assert "AUTOBUILD_DB_UPGRADE=auto" in str(older.value)

    result = migrate.upgrade(engine, script_location=next_release)
    assert result.describe() == f"upgraded from {head} to {NEXT_REVISION}"
    with engine.connect() as conn:  # the rows survived the table copy, foreign keys intact
        probed = text("SELECT count(*) FROM builds WHERE next_release_probe = 0")
        assert conn.execute(probed).scalar_one() == 9
        assert conn.execute(text("SELECT count(*) FROM build_logs")).scalar_one() > 40

    for step in (migrate.check, migrate.upgrade):  # this installation's code is older now
        with pytest.raises(SchemaMismatchError) as newer:
            step(engine)
        assert newer.value.state is SchemaState.NEWER
        assert "upgraded by newer Autobuild code" in str(newer.value)
        assert "upgrade this installation's code" in str(newer.value)
    assert migrate.current_revision(engine) == NEXT_REVISION


def test_previous_release_is_adopted_straight_to_a_later_head(
    dbs: Databases, tmp_path: Path
) -> None:
    engine = dbs.load_previous_release()
    result = migrate.upgrade(engine, script_location=next_release_migrations(tmp_path))
    assert (result.before, result.after, result.adopted) == (None, NEXT_REVISION, True)


def test_a_failing_migration_leaves_the_previous_revision(
    dbs: Databases, tmp_path: Path
) -> None:
    engine = dbs.load_previous_release()
    migrate.upgrade(engine)
    with pytest.raises(RuntimeError, match="the migration failed"):
        migrate.upgrade(engine, script_location=next_release_migrations(tmp_path, failing=True))
    assert migrate.current_revision(engine) == migrate.head_revision()
    if dbs.backend == "postgresql":  # transactional DDL: nothing of it remains
        assert_schema_is_records_schema(dbs, engine)


def test_check_on_an_empty_database_says_to_upgrade(dbs: Databases) -> None:
    engine = dbs.engine()
    with pytest.raises(SchemaMismatchError) as empty:
        migrate.check(engine)
    assert (empty.value.state, empty.value.current, empty.value.head) == (
        SchemaState.EMPTY, None, migrate.head_revision())
    assert "is empty" in str(empty.value) and "`autobuild db upgrade`" in str(empty.value)


def test_prepare_checks_by_default_and_upgrades_in_auto_mode(dbs: Databases) -> None:
    engine = dbs.engine()
    with pytest.raises(SchemaMismatchError):
        migrate.prepare(engine)
    with pytest.raises(SchemaMismatchError):
        migrate.prepare(engine, mode="check")
    assert migrate.current_revision(engine) is None
    migrate.prepare(engine, mode="auto")
    assert migrate.current_revision(engine) == migrate.head_revision()
    with pytest.raises(ValueError, match="AUTOBUILD_DB_UPGRADE must be one of check, auto"):
        migrate.prepare(engine, mode="yes")


@pytest.mark.parametrize("step", [
    pytest.param(migrate.check, id="check"),
    pytest.param(lambda e: migrate.prepare(e, mode="check"), id="prepare-check"),
    pytest.param(lambda e: migrate.prepare(e, mode="auto"), id="prepare-auto"),
    pytest.param(migrate.upgrade, id="upgrade"),
])
def test_a_current_schema_costs_one_query(dbs: Databases, step: object) -> None:
    engine = dbs.engine()
    migrate.upgrade(engine)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_rest: statements.append(statement))
    step(engine)  # type: ignore[operator]
    assert statements == ["SELECT version_num FROM alembic_version"]


def test_a_revision_another_process_commits_while_it_is_read_is_read(tmp_path: Path) -> None:
    """Processes starting together: one finds no version table, then sees it committed."""
    path = tmp_path / "racing.db"
    engine = make_engine(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("BEGIN")
    other.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    other.execute("INSERT INTO alembic_version VALUES ('0001')")

    @event.listens_for(engine, "handle_error")
    def commit_the_other(context: object) -> None:
        other.execute("COMMIT")

    try:
        assert migrate.current_revision(engine) == "0001"
    finally:
        other.close()
        engine.dispose()
