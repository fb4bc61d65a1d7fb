"""Test data every test folder shares: build plans, stored builds, and a clock that steps."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from core.plan import BuildPlan
from core.status import BuildStatus
from records.builds import BuildRecord, BuildStore

REGISTRY = "127.0.0.1:5000"
_REFS: Iterator[int] = count()


def make_plan(**changes: Any) -> BuildPlan:
    """A plan of acme/webapp's rule 0 for master (the rule `tests.conftest.repo_yaml` writes) at
    commit aaaa…; keywords override any field.

    The image and its one tag follow `repository` unless given.
    """
    repository = changes.get("repository", "acme/webapp")
    image = changes.get("image", f"{REGISTRY}/{repository}")
    values: dict[str, Any] = {
        "repository": repository, "provider": "github", "rule_index": 0,
        "ref": "refs/heads/master", "commit": "a" * 40,
        "clone_url": f"https://github.com/{repository}.git",
        "image": image, "tags": (f"{image}:latest",), "dockerfile": "Dockerfile", "context": ".",
    }
    values.update(changes)
    return BuildPlan(**values)


def path_to(status: BuildStatus) -> list[BuildStatus]:
    """The allowed transitions that take a queued build to `status`."""
    run = [BuildStatus.CLONING, BuildStatus.BUILDING, BuildStatus.PUSHING]
    if status is BuildStatus.QUEUED:
        return []
    if status in run:
        return run[: run.index(status) + 1]
    if status is BuildStatus.SUCCESS:
        return [*run, status]
    if status in (BuildStatus.SUPERSEDED, BuildStatus.CANCELLED):
        return [status]
    return [BuildStatus.CLONING, status]


def stored_build(store: BuildStore, status: BuildStatus = BuildStatus.QUEUED, *,
                 own_ref: bool = True, **plan_changes: Any) -> BuildRecord:
    """A build stored and moved along the allowed transitions to `status`.

    With `own_ref` it gets a ref of its own, so storing it supersedes no queued build.
    """
    if own_ref and "ref" not in plan_changes:
        plan_changes["ref"] = f"refs/heads/b{next(_REFS)}"
    (build,) = store.create_builds([make_plan(**plan_changes)])
    for step in path_to(status):
        assert store.set_status(build.id, step), f"{build.id} could not move to {step}"
    found = store.get_build(build.id)
    assert found is not None
    return found


@dataclass
class SteppingClock:
    """A clock for stores that moves `step` forward on every reading, so times never tie."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    step: timedelta = timedelta(milliseconds=10)

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now
