"""Which build's image each tag holds, and what a build may reuse (records/tag_history.py)."""

from __future__ import annotations

import pytest

from core.status import BuildStatus
from records.builds import BuildStore
from records.schema import builds
from records.tag_history import (
    holding_commit,
    last_pushed,
    queued_siblings,
    reusable_build,
    tag_holder,
)
from tests.factories import SteppingClock, make_plan, stored_build

MAIN = "refs/heads/main"
IMAGE = "127.0.0.1:5000/acme/webapp"


@pytest.fixture
def history(store: BuildStore) -> BuildStore:
    """The store, writing with a clock that steps so that finish times order the builds."""
    return BuildStore(store.engine, log_cap=store.log_cap, clock=SteppingClock())


def test_last_pushed_is_the_latest_success_of_the_rule_and_ref(history: BuildStore) -> None:
    assert last_pushed(history, make_plan(ref=MAIN)) is None
    first = stored_build(history, BuildStatus.SUCCESS, ref=MAIN, commit="1" * 40)
    stored_build(history, BuildStatus.FAILED, ref=MAIN, commit="2" * 40)
    stored_build(history, BuildStatus.SUCCESS, ref="refs/heads/dev", commit="3" * 40)
    stored_build(history, BuildStatus.SUCCESS, ref=MAIN, commit="4" * 40, rule_index=1)
    found = last_pushed(history, make_plan(ref=MAIN))
    assert found is not None and found.id == first.id


def test_a_push_is_a_no_op_only_when_the_tags_hold_its_commit(history: BuildStore) -> None:
    plan = make_plan(ref=MAIN, commit="1" * 40)
    pushed = stored_build(history, BuildStatus.SUCCESS, ref=MAIN, commit="1" * 40)
    assert holding_commit(history, plan).id == pushed.id  # type: ignore[union-attr]
    assert holding_commit(history, make_plan(ref="refs/tags/v1", commit="1" * 40)) is None
    assert holding_commit(history, make_plan(ref=MAIN, commit="1" * 40,
                                             tags=(f"{IMAGE}:other",))) is None
    stored_build(history, BuildStatus.SUCCESS, ref=MAIN, commit="2" * 40)
    assert holding_commit(history, plan) is None, "the tags moved on: building it again is new"
    queued = stored_build(history, BuildStatus.QUEUED, ref=MAIN, commit="1" * 40)
    assert holding_commit(history, plan).id == queued.id  # type: ignore[union-attr]


def test_queued_siblings_are_the_other_waiting_builds_of_the_rule_and_ref(
        history: BuildStore) -> None:
    me = stored_build(history, BuildStatus.CLONING, ref=MAIN, commit="1" * 40)
    waiting = [stored_build(history, ref=MAIN, commit=c * 40) for c in "23"]
    stored_build(history, ref="refs/heads/dev", commit="4" * 40)
    stored_build(history, BuildStatus.CANCELLED, ref=MAIN, commit="5" * 40)
    assert [b.id for b in queued_siblings(history, me)] == [b.id for b in waiting]


def test_reusable_build_needs_the_same_rule_commit_and_inputs(history: BuildStore) -> None:
    built = stored_build(history, BuildStatus.SUCCESS, ref="refs/tags/v1.0.0-rc.1",
                         commit="1" * 40)
    with history.engine.begin() as conn:
        conn.execute(builds.update().where(builds.c.id == built.id)
                     .values(digest="sha256:" + "d" * 64))
    release = make_plan(ref="refs/tags/v1.0.0", commit="1" * 40)
    assert reusable_build(history, release, exclude="x").id == built.id  # type: ignore[union-attr]
    assert reusable_build(history, release, exclude=built.id) is None
    changed = make_plan(ref="refs/tags/v1.0.0", commit="1" * 40, build_args=(("A", "1"),))
    assert reusable_build(history, changed, exclude="x") is None
    assert reusable_build(history, make_plan(commit="2" * 40), exclude="x") is None


def test_tag_holder_finds_who_pushed_a_tag_last(history: BuildStore) -> None:
    tag = f"{IMAGE}:v1.2.3"
    branch = stored_build(history, BuildStatus.SUCCESS, ref="refs/heads/v1.2.3", tags=(tag,))
    stored_build(history, BuildStatus.FAILED, ref="refs/tags/v1.2.3", tags=(tag,))
    stored_build(history, BuildStatus.SUCCESS, tags=(f"{IMAGE}:v1.2.3-rc",))
    holder = tag_holder(history, tag, repository="acme/webapp", provider="github",
                        exclude="none")
    assert holder is not None and holder.id == branch.id
    assert tag_holder(history, tag, repository="acme/webapp", provider="github",
                      exclude=branch.id) is None
