"""Several processes upgrading one database at the same moment migrate it exactly once."""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from records import migrate
from records.db import make_engine
from records.schema import builds
from tests.records.migration_support import BACKENDS, Databases, make_databases

PROCESSES = 4
DEADLINE_SECONDS = 120  # generous: spawning imports SQLAlchemy and Alembic in each process


def upgrade_when_released(url: str, barrier: Any, results: Any) -> None:
    """In a child process: wait until every sibling is ready, then upgrade and report."""
    engine = make_engine(url)
    try:
        barrier.wait(timeout=DEADLINE_SECONDS)
        result = migrate.upgrade(engine)
        results.put(("ok", result.before, result.after, result.adopted))
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        results.put(("error", f"{type(exc).__name__}: {exc}", None, None))
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def dbs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    """Fresh databases of each backend, dropped after the test."""
    databases = make_databases(request.param, tmp_path)
    yield databases
    databases.close()


@pytest.mark.parametrize("start", ["empty", "previous-release"])
def test_processes_starting_together_migrate_once(dbs: Databases, start: str) -> None:
    engine = dbs.load_previous_release() if start == "previous-release" else dbs.engine()
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    children = [context.Process(target=upgrade_when_released, args=(url, barrier, results))
                for _ in range(PROCESSES)]
    for child in children:
        child.start()
    deadline = time.monotonic() + DEADLINE_SECONDS
    outcomes = []
    try:
        for _ in children:
            outcomes.append(results.get(timeout=max(0.1, deadline - time.monotonic())))
    except queue.Empty:
        pytest.fail(f"only {len(outcomes)} of {PROCESSES} upgrades answered within "
                    f"{DEADLINE_SECONDS} s: {outcomes}")
    finally:
        for child in children:
            child.join(timeout=max(0.1, deadline - time.monotonic()))
            if child.is_alive():
                child.kill()
                child.join()

    errors = [o[1] for o in outcomes if o[0] == "error"]
    assert not errors, f"concurrent upgrades failed: {errors}"
    head = migrate.head_revision()
    did_work = [o for o in outcomes if o[1] != head]
    assert len(did_work) == 1, f"expected one process to migrate, got {outcomes}"
    assert did_work[0][1:] == (None, head, start == "previous-release")
    assert all(o[1:] == (head, head, False) for o in outcomes if o not in did_work)
    assert [child.exitcode for child in children] == [0] * PROCESSES
    migrate.check(engine)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(builds)).scalar_one()
    assert count == (9 if start == "previous-release" else 0)
