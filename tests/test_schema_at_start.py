"""Web and workers refuse to start on a database whose schema is not the code's, saying what
to run; AUTOBUILD_DB_UPGRADE=auto upgrades instead."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from records.migrate import SchemaMismatchError, current_revision, head_revision

ROOT = Path(__file__).resolve().parents[1]


def test_the_web_app_refuses_an_empty_database_and_says_what_to_run(
        app_factory: Callable[..., Flask], tmp_path: Path) -> None:
    with pytest.raises(SchemaMismatchError) as caught:
        app_factory(DB_UPGRADE="check", DATABASE_URL=f"sqlite:///{tmp_path}/empty.db")
    assert "autobuild db upgrade" in str(caught.value)
    assert "AUTOBUILD_DB_UPGRADE=auto" in str(caught.value)


def test_the_web_app_upgrades_at_start_with_auto(app_factory: Callable[..., Flask],
                                                tmp_path: Path) -> None:
    app = app_factory(DB_UPGRADE="auto", DATABASE_URL=f"sqlite:///{tmp_path}/fresh.db")
    assert current_revision(app.extensions["build_store"].engine) == head_revision()


def test_a_worker_refuses_an_empty_database_and_exits(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOBUILD_")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/empty.db", AUTOBUILD_VAR_DIR=str(tmp_path),
               REDIS_URL="redis://127.0.0.1:1/0")
    done = subprocess.run([sys.executable, "-m", "workers", "--burst"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "autobuild db upgrade" in done.stderr
