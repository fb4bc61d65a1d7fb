"""`autobuild db upgrade` and `autobuild db current` on real SQLite files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from records import migrate
from service.cli import main
from tests.records.migration_support import Databases

HEAD = migrate.head_revision()


@pytest.fixture
def dbs(tmp_path: Path) -> Iterator[Databases]:
    """SQLite databases in tmp_path (the commands do not depend on the backend)."""
    databases = Databases("sqlite", tmp_path)
    yield databases
    databases.close()


def db(*args: str) -> int:
    return main(["db", *args])


def test_upgrade_creates_then_reports_already_at_head(
    dbs: Databases, capsys: pytest.CaptureFixture[str]
) -> None:
    url = dbs.new_url()
    assert db("current", "--database-url", url) == 1
    out, err = capsys.readouterr()
    assert out == f"none (this code's head is {HEAD})\n"
    assert "is empty" in err and "run `autobuild db upgrade`" in err
    assert db("upgrade", "--database-url", url) == 0
    assert capsys.readouterr().out == f"{url}: upgraded an empty database to {HEAD}\n"
    assert db("upgrade", "--database-url", url) == 0
    assert capsys.readouterr().out == f"{url}: already at {HEAD}\n"
    assert db("current", "--database-url", url) == 0
    assert capsys.readouterr().out == f"{HEAD} (this code's head)\n"


def test_upgrade_adopts_a_previous_release_database(
    dbs: Databases, capsys: pytest.CaptureFixture[str]
) -> None:
    url = dbs.load_previous_release().url.render_as_string()
    assert db("upgrade", "--database-url", url) == 0
    assert capsys.readouterr().out == (
        f"{url}: adopted an existing database made before migrations, then upgraded to {HEAD}\n")


def test_the_default_database_is_the_settings_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("AUTOBUILD_VAR_DIR", "state")
    (tmp_path / "state").mkdir()
    assert db("upgrade") == 0
    assert capsys.readouterr().out.startswith(f"sqlite:///{tmp_path}/state/autobuild.db: ")
    other = tmp_path / "other.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{other}")
    assert db("upgrade") == 0
    assert other.exists()


def test_a_newer_database_is_refused_with_what_to_do(
    dbs: Databases, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = dbs.engine()
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe'"))
    url = engine.url.render_as_string()
    for command in ("current", "upgrade"):
        assert db(command, "--database-url", url) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"autobuild db {command}: the database {url} is at schema "
                              "revision f00dcafe, which this code does not know")
        assert "upgrade this installation's code" in err


def test_tables_unlike_the_baseline_are_refused(
    dbs: Databases, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = dbs.load_previous_release()
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_builds_status"))
    assert db("upgrade", "--database-url", engine.url.render_as_string()) == 1
    err = capsys.readouterr().err
    assert "index ix_builds_status on builds(status) is missing" in err
    assert "Nothing was changed" in err


def test_a_missing_folder_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/absent/autobuild.db"
    assert db("upgrade", "--database-url", url) == 1
    err = capsys.readouterr().err
    assert f"cannot use the database {url}" in err
    assert f"the folder {tmp_path}/absent does not exist" in err


def test_an_unusable_url_is_an_error_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert db("current", "--database-url", "nosuchdb://x") == 1
    assert "autobuild db current: Can't load plugin: sqlalchemy.dialects:nosuchdb" in (
        capsys.readouterr().err)
