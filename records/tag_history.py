"""Which build's image each tag holds, and what a new build can reuse (database reads).

A rule's tags for a ref hold the image of the last build of that rule and ref that succeeded;
these queries answer the questions the webhook (is this push a no-op?), the worker (which
queued build is the newest? is there an image to reuse?) and the build page (whose tag did
this build take over?) ask of that history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CompoundSelect, bindparam, literal, select, union_all

from core.plan import BuildPlan
from core.status import RUNNING, BuildStatus
from records.builds import BuildRecord, BuildStore, build_from_row, same_rule
from records.schema import builds

IN_PROGRESS = [BuildStatus.QUEUED.value, *(s.value for s in RUNNING)]
TAG_CANDIDATES = 20


def last_pushed(store: BuildStore, plan: BuildPlan) -> BuildRecord | None:
    """The last build of the plan's rule and ref that pushed its tags (succeeded), if any."""
    query = (select(builds)
             .where(*same_rule(plan), builds.c.ref == plan.ref,
                    builds.c.status == BuildStatus.SUCCESS.value)
             .order_by(builds.c.finished_at.desc(), builds.c.id.desc()).limit(1))
    with store.engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return build_from_row(row) if row else None


def _holding_query() -> CompoundSelect[Any]:
    """Both candidates of `holding_commit` in one statement, built once (a wide select with
    subqueries costs more to construct than to run)."""
    rule_and_ref = [builds.c.repository == bindparam("repository"),
                    builds.c.provider == bindparam("provider"),
                    builds.c.rule_index == bindparam("rule_index"),
                    builds.c.ref == bindparam("ref")]
    active = (select(builds, literal(0).label("candidate"))
              .where(*rule_and_ref, builds.c.commit_sha == bindparam("commit"),
                     builds.c.status.in_(IN_PROGRESS))
              .order_by(builds.c.created_at.desc()).limit(1))
    pushed = (select(builds, literal(1).label("candidate"))
              .where(*rule_and_ref, builds.c.status == BuildStatus.SUCCESS.value)
              .order_by(builds.c.finished_at.desc(), builds.c.id.desc()).limit(1))
    return union_all(select(active.subquery()), select(pushed.subquery()))


HOLDING = _holding_query()


def holding_commit(store: BuildStore, plan: BuildPlan) -> BuildRecord | None:
    """The build that makes this plan a no-op: one of the same rule, ref and commit still under
    way, or the last pushed build of the rule and ref when it holds this commit with these tags.
    Both candidates come back in one query (webhook intake asks this for every plan)."""
    values = {"repository": plan.repository, "provider": plan.provider,
              "rule_index": plan.rule_index, "ref": plan.ref, "commit": plan.commit}
    with store.engine.connect() as conn:
        rows = {row["candidate"]: row for row in conn.execute(HOLDING, values).mappings()}
    if 0 in rows:
        return build_from_row(rows[0])
    if 1 in rows:
        last = build_from_row(rows[1])
        if last.commit == plan.commit and last.tags == plan.tags:
            return last
    return None


def queued_siblings(store: BuildStore, build: BuildRecord) -> list[BuildRecord]:
    """The other builds of the same rule and ref still waiting, oldest first."""
    query = (select(builds)
             .where(*same_rule(build.plan), builds.c.ref == build.ref,
                    builds.c.status == BuildStatus.QUEUED.value, builds.c.id != build.id)
             .order_by(builds.c.created_at, builds.c.id))
    with store.engine.connect() as conn:
        return [build_from_row(r) for r in conn.execute(query).mappings().all()]


def reusable_build(store: BuildStore, plan: BuildPlan, *, exclude: str) -> BuildRecord | None:
    """The latest successful build of the plan's rule and commit with the same inputs, whose
    image a build of another ref can push again instead of building it."""
    query = (select(builds)
             .where(*same_rule(plan), builds.c.commit_sha == plan.commit,
                    builds.c.input_key == plan.inputs_key(),
                    builds.c.status == BuildStatus.SUCCESS.value,
                    builds.c.digest.is_not(None), builds.c.id != exclude)
             .order_by(builds.c.finished_at.desc(), builds.c.id.desc()).limit(1))
    with store.engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return build_from_row(row) if row else None


def tag_holder(store: BuildStore, reference: str, *, repository: str, provider: str,
               exclude: str, before: datetime | None = None) -> BuildRecord | None:
    """The last successful build (other than `exclude`, finished before `before`) that
    pushed `reference`."""
    pattern = "%" + json.dumps(reference).replace("\\", "\\\\").replace("%", "\\%").replace(
        "_", "\\_") + "%"
    query = (select(builds)
             .where(builds.c.repository == repository, builds.c.provider == provider,
                    builds.c.status == BuildStatus.SUCCESS.value, builds.c.id != exclude,
                    builds.c.tags.like(pattern, escape="\\"),
                    *([builds.c.finished_at < before] if before is not None else []))
             .order_by(builds.c.finished_at.desc(), builds.c.id.desc()).limit(TAG_CANDIDATES))
    with store.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return next((b for b in map(build_from_row, rows) if reference in b.tags), None)


@dataclass(frozen=True)
class Takeover:
    """A tag a build moved here from another ref; `alarm` unless that is the rule's own way
    (a fixed tag like `latest` moving between the refs of one rule)."""

    tag: str
    holder: BuildRecord
    alarm: bool


def takeovers(store: BuildStore, build: BuildRecord, *,
              before: datetime | None = None) -> list[Takeover]:
    """The build's tags that the previous holder (finished before `before`) got from
    another ref."""
    moved = []
    for reference in build.tags:
        holder = tag_holder(store, reference, repository=build.repository,
                            provider=build.provider, exclude=build.id, before=before)
        if holder is None or holder.ref == build.ref:
            continue
        expected = holder.rule_index == build.rule_index and reference in build.plan.fixed_tags
        moved.append(Takeover(reference.rpartition(":")[2], holder, alarm=not expected))
    return moved
