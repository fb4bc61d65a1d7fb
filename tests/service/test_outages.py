"""A database that cannot answer gives webhooks a 503 (forges redeliver), never a 500, and
records nothing half: the redelivery is then processed in full."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from tests.conftest import WebhookSender, repo_yaml
from tests.core.fixtures import FIXTURES_DIR
from tests.fakes import RecordingQueue


def test_a_busy_sqlite_answers_503_and_the_redelivery_builds(
    app_factory: Callable[..., Flask], tmp_path: Path, queue: RecordingQueue,
) -> None:
    database = tmp_path / "busy.db"
    app = app_factory("repositories:\n" + repo_yaml("Codertocat/Hello-World"),
                      DATABASE_URL=f"sqlite:///{database}", DB_BUSY_TIMEOUT=0.3)
    sender = WebhookSender(app.test_client())
    push = json.loads((FIXTURES_DIR / "github/push-branch.json").read_bytes())
    other_writer = sqlite3.connect(database, timeout=0.1, isolation_level=None)
    other_writer.execute("BEGIN EXCLUSIVE")
    try:
        refused = sender.github(push, delivery="while-busy")
    finally:
        other_writer.execute("ROLLBACK")
        other_writer.close()

    assert refused.status_code == 503, refused.get_data(as_text=True)
    assert refused.headers["Retry-After"] == "5"
    assert "database is unavailable" in refused.get_json()["error"]
    assert queue.enqueued == []
    again = sender.github(push, delivery="while-busy")
    assert again.status_code == 202, again.get_json()
    assert len(again.get_json()["builds"]) == 1 and len(queue.enqueued) == 1
    deliveries = app.test_client().get("/api/deliveries").get_json()["deliveries"]
    assert [d["delivery_id"] for d in deliveries] == ["while-busy"]


def test_pages_say_try_again_when_the_database_is_gone(
    app_factory: Callable[..., Flask], tmp_path: Path,
) -> None:
    database = tmp_path / "gone.db"
    app = app_factory(DATABASE_URL=f"sqlite:///{database}")
    app.extensions["build_store"].engine.dispose()
    database.rename(tmp_path / "moved-away.db")  # a fresh empty file has none of our tables

    page = app.test_client().get("/")

    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "Try again shortly" in page.get_data(as_text=True)
