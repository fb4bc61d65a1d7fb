"""A store on a fresh SQLite database with a clock the test moves, and an outbox on it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.credentials import SecretRef
from core.notify.targets import StatusTarget, WebhookTarget
from core.status import BuildStatus
from records.builds import BuildStore
from records.db import make_engine
from records.migrate import prepare
from records.outbox import Outbox
from tests.factories import make_plan, path_to

TOKEN = "status-token-0123456789"
HOOK_SECRET = "hook-secret-0123456789"
ENVIRON = {"STATUS_TOKEN": TOKEN, "HOOK_SECRET": HOOK_SECRET}


@dataclass
class ManualClock:
    """A clock that stands still until the test moves it."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC))


@pytest.fixture
def store(tmp_path: Path, clock: ManualClock) -> Iterator[BuildStore]:
    engine = make_engine(f"sqlite:///{tmp_path}/notify.db")
    prepare(engine, mode="auto")
    yield BuildStore(engine, clock=clock)
    engine.dispose()


@pytest.fixture
def outbox(store: BuildStore, clock: ManualClock) -> Outbox:
    return Outbox(store.engine, clock=clock)


def status_target(api_url: str, forge: str = "github") -> StatusTarget:
    return StatusTarget(forge=forge, api_url=api_url, token=SecretRef(env="STATUS_TOKEN"),
                        context="autobuild/latest")


def hook_target(url: str, **changes: object) -> WebhookTarget:
    values: dict[str, object] = {"url": url, "secret": SecretRef(env="HOOK_SECRET")}
    values.update(changes)
    return WebhookTarget(**values)  # type: ignore[arg-type]


def build_with(store: BuildStore, moved_to: BuildStatus, **plan_changes: object) -> str:
    """A build of a plan with these targets moved to `moved_to`; its id."""
    (build,) = store.create_builds([make_plan(**plan_changes)])
    for step in path_to(moved_to):
        assert store.set_status(build.id, step)
    return build.id
