"""A store on a fresh database: SQLite always, PostgreSQL too when TEST_DATABASE_URL names one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from records.builds import BuildStore
from records.db import make_engine
from records.deliveries import DeliveryLog
from records.migrate import prepare
from tests.databases import BACKENDS, SQLITE, fresh_postgres


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BuildStore]:
    """A BuildStore on an empty database of each configured backend."""
    with ExitStack() as stack:
        url = (f"sqlite:///{tmp_path}/records.db" if request.param == SQLITE
               else stack.enter_context(fresh_postgres()))
        engine = make_engine(url)
        prepare(engine, mode="auto")
        yield BuildStore(engine, log_cap=1000)
        engine.dispose()


@pytest.fixture
def deliveries(store: BuildStore) -> DeliveryLog:
    """The delivery log on the same database."""
    return DeliveryLog(store.engine, store)
