"""A store on a fresh database: SQLite always, PostgreSQL too when TEST_DATABASE_URL names one."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from records.builds import BuildStore
from records.db import make_engine
from records.deliveries import DeliveryLog
from records.migrate import prepare

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BuildStore]:
    """A BuildStore on an empty database of each configured backend."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/records.db")
        prepare(engine, mode="auto")
        yield BuildStore(engine, log_cap=1000)
        engine.dispose()
        return
    admin_url = os.environ["TEST_DATABASE_URL"]
    name = f"autobuild_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(admin_url.rsplit("/", 1)[0] + f"/{name}")
    prepare(engine, mode="auto")
    yield BuildStore(engine, log_cap=1000)
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}"'))
    admin.dispose()


@pytest.fixture
def deliveries(store: BuildStore) -> DeliveryLog:
    """The delivery log on the same database."""
    return DeliveryLog(store.engine, store)
