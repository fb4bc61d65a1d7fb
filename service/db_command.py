"""`autobuild db upgrade`, `autobuild db current` and `autobuild db revision` (schema I/O)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from alembic import command
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from core.config import ConfigError, settings_from_env
from records import migrate
from records.db import make_engine
from records.migrations.compare import schema_differences

URL_HELP = "default: DATABASE_URL, else sqlite:///<AUTOBUILD_VAR_DIR>/autobuild.db"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `db` and its commands on the `autobuild` command's subparsers."""
    db = subparsers.add_parser("db", help="upgrade or inspect the database schema")
    commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = commands.add_parser(
        "upgrade", help="bring the database to this code's schema (adopting one made before "
        "migrations)")
    current = commands.add_parser(
        "current", help="print the database's schema revision and whether it is this code's")
    for sub in (upgrade, current):
        sub.add_argument("--database-url", help=URL_HELP)
    revision = commands.add_parser(
        "revision", help="for developers: write the next migration from how records/schema.py "
        "differs from the migrations' head")
    revision.add_argument("-m", "--message", required=True, help="what the migration changes")


def run(args: argparse.Namespace) -> int:
    """Run one `autobuild db` command; 0 when done, 1 (message on stderr) otherwise."""
    name = f"autobuild db {args.db_command}"
    try:
        if args.db_command == "revision":
            return write_revision(args.message)
        url = args.database_url or settings_from_env(os.environ, base_dir=os.getcwd()).database_url
        engine = make_engine(url)
    except (ConfigError, migrate.MigrationError, SQLAlchemyError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    try:
        if args.db_command == "upgrade":
            print(f"{_shown(engine)}: {migrate.upgrade(engine).describe()}")
            return 0
        return show_current(engine)
    except migrate.MigrationError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
    except SQLAlchemyError as exc:
        print(f"{name}: cannot use the database {_shown(engine)}: {exc}{_hint(engine)}",
              file=sys.stderr)
    finally:
        engine.dispose()
    return 1


def show_current(engine: Engine) -> int:
    """Print the revision and whether it is this code's head; 1 (and why) when it is not."""
    head = migrate.head_revision()
    try:
        migrate.check(engine)
    except migrate.SchemaMismatchError as exc:
        print(f"{exc.current or 'none'} (this code's head is {head})")
        print(f"autobuild db current: {exc}", file=sys.stderr)
        return 1
    print(f"{head} (this code's head)")
    return 0


def write_revision(message: str) -> int:
    """Autogenerate records/migrations/versions/<NNNN>_<slug>.py against a scratch database."""
    from records.schema import metadata

    rev_id = f"{len(list(migrate.script_directory().walk_revisions())) + 1:04d}"
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/head.db")
        try:
            migrate.upgrade(engine)
            with engine.begin() as conn:
                changes = schema_differences(conn, metadata)
                config = migrate.alembic_config(conn, target_metadata=metadata)
                script = command.revision(config, message=message, autogenerate=True,
                                          rev_id=rev_id)
        finally:
            engine.dispose()
    path = script.path if script is not None and not isinstance(script, list) else "?"
    print(f"wrote {path}")
    for change in changes:
        print(f"  {change}")
    if not changes:
        print("records/schema.py matches the head already: upgrade() is empty; write it by hand "
              "(a data migration) or delete the file", file=sys.stderr)
    print("review it (SQLite renders batch operations), then run the migration tests on both "
          "backends", file=sys.stderr)
    return 0


def _hint(engine: Engine) -> str:
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and not os.path.isdir(
            os.path.dirname(os.path.abspath(database))):
        return f"\n(the folder {os.path.dirname(os.path.abspath(database))} does not exist)"
    return ""


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
