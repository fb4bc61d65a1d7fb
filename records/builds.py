"""BuildStore: the one place that reads and writes builds and their logs (database I/O)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Select, func, insert, select, update

from core.defaults import LOG_CAP_BYTES
from core.notify.fanout import notifies
from core.plan import BuildPlan
from core.rebuilds import RebuildCause
from core.status import BuildStatus
from records.db import Clock, iso, make_engine, new_build_id, utcnow
from records.logs import BuildLogMixin
from records.migrate import check
from records.schema import builds
from records.transitions import record_events, transition


@dataclass(frozen=True)
class BuildRecord:
    """One build as stored; `to_dict` is the API's BUILD object."""

    id: str
    repository: str
    provider: str
    rule_index: int
    ref: str
    commit: str
    status: BuildStatus
    trigger: str
    tags: tuple[str, ...]
    digest: str | None
    error: str | None
    plan: BuildPlan
    delivery_id: str | None
    superseded_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    log_size: int
    building_at: datetime | None = None
    pushing_at: datetime | None = None
    heartbeat_at: datetime | None = None
    reused_from: str | None = None
    platform_digests: tuple[tuple[str, str], ...] = ()
    bases: tuple[tuple[str, str | None], ...] = ()  # (FROM reference, digest used or None)
    cause: RebuildCause | None = None  # why a base_image or schedule build was queued

    @property
    def duration_seconds(self) -> float | None:
        """Seconds from start to finish (or until now while running)."""
        if self.started_at is None:
            return None
        end = self.finished_at or utcnow()
        return max(0.0, (end - self.started_at).total_seconds())

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the API returns."""
        return {
            "id": self.id,
            "repository": self.repository,
            "provider": self.provider,
            "rule_index": self.rule_index,
            "ref": self.ref,
            "commit": self.commit,
            "status": self.status.value,
            "trigger": self.trigger,
            "tags": list(self.tags),
            "digest": self.digest,
            "platform_digests": [{"platform": platform, "digest": digest}
                                 for platform, digest in self.platform_digests],
            "builder": self.plan.builder,
            "platforms": list(self.plan.platforms),
            "queue": self.plan.queue,
            "error": self.error,
            "superseded_by": self.superseded_by,
            "reused_from": self.reused_from,
            "delivery_id": self.delivery_id,
            "created_at": iso(self.created_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "duration_seconds": self.duration_seconds,
            "phases": self.phase_times(),
            "bases": [{"reference": reference, "digest": digest}
                      for reference, digest in self.bases],
            "cause": self.cause.to_dict() if self.cause else None,
            "reason": self.cause.describe() if self.cause else None,
        }

    def phase_times(self) -> dict[str, str | None]:
        """When each phase began (and when the build finished), ISO 8601 in UTC."""
        return {
            "cloning": iso(self.started_at),
            "building": iso(self.building_at),
            "pushing": iso(self.pushing_at),
            "finished": iso(self.finished_at),
        }


@dataclass(frozen=True)
class BuildFilter:
    """Which builds a list shows; None means any."""

    repository: str | None = None
    provider: str | None = None
    status: str | None = None
    refs: tuple[str, ...] | None = None
    trigger: str | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        """`query` narrowed to the builds this filter keeps."""
        q = query
        if self.repository is not None:
            q = q.where(builds.c.repository == self.repository)
        if self.provider is not None:
            q = q.where(builds.c.provider == self.provider)
        if self.status is not None:
            q = q.where(builds.c.status == self.status)
        if self.refs is not None:
            q = q.where(builds.c.ref.in_(self.refs))
        if self.trigger is not None:
            q = q.where(builds.c.trigger == self.trigger)
        return q


class BuildStore(BuildLogMixin):
    """Reads and writes the system of record through one SQLAlchemy engine."""

    def __init__(self, engine: Engine, *, log_cap: int = LOG_CAP_BYTES,
                 clock: Clock = utcnow) -> None:
        self.engine = engine
        self.log_cap = log_cap
        self.clock = clock

    @classmethod
    def from_url(cls, url: str, *, log_cap: int = LOG_CAP_BYTES) -> BuildStore:
        """A store on a new engine; SchemaMismatchError unless the schema is the code's."""
        engine = make_engine(url)
        check(engine)
        return cls(engine, log_cap=log_cap)

    # builds -----------------------------------------------------------------------------------

    def create_builds(
        self, plans: Sequence[BuildPlan], *, delivery_id: str | None = None
    ) -> list[BuildRecord]:
        """Insert one queued build per plan, in one transaction."""
        now = self.clock()
        ids = [new_build_id(now) for _ in plans]
        if plans:
            with self.engine.begin() as conn:
                insert_builds(conn, ids, plans, delivery_id=delivery_id, now=now)
        return queued_records(ids, plans, delivery_id=delivery_id, now=now)

    def get_build(self, build_id: str) -> BuildRecord | None:
        """The build with this id, or None."""
        found = self.get_builds([build_id])
        return found[0] if found else None

    def get_builds(self, build_ids: Iterable[str]) -> list[BuildRecord]:
        """The builds with these ids, in the order given (unknown ids are left out)."""
        wanted = list(build_ids)
        if not wanted:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(select(builds).where(builds.c.id.in_(wanted))).mappings().all()
        found = {r["id"]: build_from_row(r) for r in rows}
        return [found[i] for i in wanted if i in found]

    def list_builds(self, where: BuildFilter = BuildFilter(), *, limit: int = 50,
                    offset: int = 0) -> list[BuildRecord]:
        """One page of builds, newest first."""
        query = where.apply(select(builds)).order_by(builds.c.created_at.desc(),
                                                     builds.c.id.desc())
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit).offset(offset)).mappings().all()
        return [build_from_row(r) for r in rows]

    def count_builds(self, where: BuildFilter = BuildFilter()) -> int:
        """How many builds the filter keeps (for pagination)."""
        query = where.apply(select(func.count()).select_from(builds))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def mark_reused(self, build_id: str, reused_id: str) -> None:
        """Record that the build pushes the image of build `reused_id` (not a status change)."""
        with self.engine.begin() as conn:
            conn.execute(update(builds).where(builds.c.id == build_id)
                         .values(reused_from=reused_id))

    def set_status(
        self,
        build_id: str,
        new: BuildStatus,
        *,
        error: str | None = None,
        digest: str | None = None,
        superseded_by: str | None = None,
    ) -> bool:
        """Move a build to `new` if ALLOWED_TRANSITIONS permit it; False (no change) otherwise."""
        with self.engine.begin() as conn:
            moved = transition(conn, new, builds.c.id == build_id, now=self.clock(), error=error,
                               digest=digest, superseded_by=superseded_by)
        return moved > 0

    def record_bases(self, build_id: str, bases: Sequence[tuple[str, str | None]]) -> None:
        """Remember the base images (FROM references, with the digest used) a build used."""
        with self.engine.begin() as conn:
            conn.execute(update(builds).where(builds.c.id == build_id).values(
                bases=json.dumps([list(pair) for pair in bases])))

    def record_platform_digests(self, build_id: str,
                                digests: Sequence[tuple[str, str]]) -> None:
        """Remember each platform's manifest digest of a multi-platform build's list."""
        with self.engine.begin() as conn:
            conn.execute(update(builds).where(builds.c.id == build_id).values(
                platform_digests=json.dumps([list(pair) for pair in digests])))


def build_from_row(row: Any) -> BuildRecord:
    """The BuildRecord of one `builds` row (the only place rows become records)."""
    return BuildRecord(
        id=row["id"],
        repository=row["repository"],
        provider=row["provider"],
        rule_index=row["rule_index"],
        ref=row["ref"],
        commit=row["commit_sha"],
        status=BuildStatus(row["status"]),
        trigger=row["trigger"],
        tags=tuple(json.loads(row["tags"])),
        digest=row["digest"],
        error=row["error"],
        plan=BuildPlan.from_dict(json.loads(row["plan"])),
        delivery_id=row["delivery_id"],
        superseded_by=row["superseded_by"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        log_size=row["log_size"] or 0,
        building_at=row["building_at"],
        pushing_at=row["pushing_at"],
        heartbeat_at=row["heartbeat_at"],
        reused_from=row["reused_from"],
        platform_digests=tuple((str(p), str(d)) for p, d in
                               json.loads(row["platform_digests"] or "[]")),
        bases=tuple((str(r), None if d is None else str(d))
                    for r, d in json.loads(row["bases"] or "[]")),
        cause=RebuildCause.from_dict(json.loads(row["cause"])) if row["cause"] else None,
    )


def same_rule(plan: BuildPlan) -> list[ColumnElement[bool]]:
    """WHERE clauses selecting the builds of the plan's repository and rule."""
    return [builds.c.repository == plan.repository, builds.c.provider == plan.provider,
            builds.c.rule_index == plan.rule_index]


def insert_builds(conn: Connection, ids: Sequence[str], plans: Sequence[BuildPlan], *,
                  delivery_id: str | None, now: datetime) -> None:
    """Insert queued builds. Which of several queued builds of one rule and ref is the newest
    is decided by the worker, from git (workers/ordering.py), never by arrival order here."""
    insert_build_rows(conn, build_rows(ids, plans, delivery_id=delivery_id, now=now), plans,
                      now=now)


def insert_build_rows(conn: Connection, rows: Sequence[dict[str, Any]],
                      plans: Sequence[BuildPlan], *, now: datetime) -> None:
    """Insert the `build_rows` of new queued builds of `plans`, with their `queued` events."""
    conn.execute(INSERT_BUILD, rows)
    untold = {row["id"] for row, plan in zip(rows, plans, strict=True)
              if not notifies(plan, BuildStatus.QUEUED)}
    record_events(conn, [row["id"] for row in rows], BuildStatus.QUEUED, now=now,
                  untold=untold)


INSERT_BUILD = insert(builds)


def queued_records(ids: Sequence[str], plans: Sequence[BuildPlan], *,
                   delivery_id: str | None, now: datetime) -> list[BuildRecord]:
    """The records of builds `insert_builds` just wrote, without reading them back."""
    return [BuildRecord(id=build_id, repository=plan.repository, provider=plan.provider,
                        rule_index=plan.rule_index, ref=plan.ref, commit=plan.commit,
                        status=BuildStatus.QUEUED, trigger=plan.trigger, tags=plan.tags,
                        digest=None, error=None, plan=plan, delivery_id=delivery_id or None,
                        superseded_by=None, created_at=now, started_at=None,
                        finished_at=None, log_size=0)
            for build_id, plan in zip(ids, plans, strict=True)]


def build_rows(
    ids: Sequence[str], plans: Sequence[BuildPlan], *, delivery_id: str | None, now: datetime
) -> list[dict[str, Any]]:
    """The `builds` rows for new queued builds of these plans."""
    return [
        {
            "id": build_id,
            "repository": plan.repository,
            "provider": plan.provider,
            "rule_index": plan.rule_index,
            "ref": plan.ref,
            "commit_sha": plan.commit,
            "status": BuildStatus.QUEUED.value,
            "trigger": plan.trigger,
            "tags": json.dumps(list(plan.tags)),
            "plan": json.dumps(plan.to_dict()),
            "delivery_id": delivery_id or None,
            "created_at": now,
            "log_size": 0,
            "input_key": plan.inputs_key(),
        }
        for build_id, plan in zip(ids, plans, strict=True)
    ]
