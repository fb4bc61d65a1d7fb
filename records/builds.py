"""BuildStore: the one place that reads and writes builds and their logs (database I/O)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from core.plan import BuildPlan
from core.status import ALLOWED_TRANSITIONS, BuildStatus
from records.db import create_schema, iso, make_engine, new_build_id, utcnow
from records.schema import build_logs, builds

DEFAULT_LOG_CAP = 64 * 1024 * 1024
TRUNCATION_MARKER = "\n...<log truncated: the build printed more than the log cap>\n"


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

    @property
    def duration_seconds(self) -> float | None:
        """Seconds from start to finish (or until now while running)."""
        if self.started_at is None:
            return None
        end = self.finished_at or utcnow().replace(tzinfo=None)
        start = self.started_at
        if end.tzinfo is None and start.tzinfo is not None:
            end = end.replace(tzinfo=start.tzinfo)
        if start.tzinfo is None and end.tzinfo is not None:
            start = start.replace(tzinfo=end.tzinfo)
        return max(0.0, (end - start).total_seconds())

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
            "error": self.error,
            "superseded_by": self.superseded_by,
            "delivery_id": self.delivery_id,
            "created_at": iso(self.created_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "duration_seconds": self.duration_seconds,
        }


class BuildStore:
    """Reads and writes the system of record through one SQLAlchemy engine."""

    def __init__(self, engine: Engine, *, log_cap: int = DEFAULT_LOG_CAP) -> None:
        self.engine = engine
        self.log_cap = log_cap

    @classmethod
    def from_url(cls, url: str, *, log_cap: int = DEFAULT_LOG_CAP) -> BuildStore:
        """A store on a new engine, with the tables created when missing."""
        engine = make_engine(url)
        create_schema(engine)
        return cls(engine, log_cap=log_cap)

    # builds -----------------------------------------------------------------------------------

    def create_builds(
        self, plans: Sequence[BuildPlan], *, delivery_id: str | None = None
    ) -> list[BuildRecord]:
        """Insert one queued build per plan, in one transaction."""
        now = utcnow()
        ids = [new_build_id() for _ in plans]
        rows = build_rows(ids, plans, delivery_id=delivery_id, now=now)
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(builds), rows)
        return [b for b in (self.get_build(i) for i in ids) if b is not None]

    def get_build(self, build_id: str) -> BuildRecord | None:
        """The build with this id, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(builds).where(builds.c.id == build_id)).mappings().first()
        return _build_from_row(row) if row else None

    def get_builds(self, build_ids: Iterable[str]) -> list[BuildRecord]:
        """The builds with these ids, in the order given (unknown ids are left out)."""
        wanted = list(build_ids)
        if not wanted:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(select(builds).where(builds.c.id.in_(wanted))).mappings().all()
        found = {r["id"]: _build_from_row(r) for r in rows}
        return [found[i] for i in wanted if i in found]

    def recent_builds(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        repository: str | None = None,
        status: str | None = None,
        ref: str | None = None,
    ) -> list[BuildRecord]:
        """Builds newest first, optionally filtered."""
        query = select(builds).order_by(builds.c.created_at.desc(), builds.c.id.desc())
        if repository is not None:
            query = query.where(builds.c.repository == repository)
        if status is not None:
            query = query.where(builds.c.status == status)
        if ref is not None:
            query = query.where(builds.c.ref == ref)
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit).offset(offset)).mappings().all()
        return [_build_from_row(r) for r in rows]

    def builds_with_status(self, statuses: Iterable[BuildStatus]) -> list[BuildRecord]:
        """Every build currently in one of `statuses`, oldest first."""
        values = [s.value for s in statuses]
        query = select(builds).where(builds.c.status.in_(values)).order_by(builds.c.created_at)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_build_from_row(r) for r in rows]

    def set_status(
        self,
        build_id: str,
        new: BuildStatus,
        *,
        error: str | None = None,
        digest: str | None = None,
        superseded_by: str | None = None,
    ) -> bool:
        """Move a build to `new` if ALLOWED_TRANSITIONS permit it; False (no change) otherwise.

        The check and the write are one conditional UPDATE, so two processes racing to change one
        build (a worker finishing, a cancel, a lost-worker sweep) cannot both win.
        """
        allowed_from = [old.value for old, targets in ALLOWED_TRANSITIONS.items() if new in targets]
        values: dict[str, Any] = {"status": new.value}
        now = utcnow()
        if new is BuildStatus.CLONING:
            values["started_at"] = now
        if new.is_terminal():
            values["finished_at"] = now
        if error is not None:
            values["error"] = error
        if digest is not None:
            values["digest"] = digest
        if superseded_by is not None:
            values["superseded_by"] = superseded_by
        statement = (
            update(builds)
            .where(builds.c.id == build_id, builds.c.status.in_(allowed_from))
            .values(**values)
        )
        with self.engine.begin() as conn:
            result = conn.execute(statement)
        return bool(result.rowcount)

    # logs -------------------------------------------------------------------------------------

    def append_log(self, build_id: str, text: str) -> None:
        """Append build output; past the cap, one truncation marker and nothing more."""
        if not text:
            return
        with self.engine.begin() as conn:
            size = conn.execute(
                select(builds.c.log_size).where(builds.c.id == build_id)
            ).scalar_one_or_none()
            if size is None or size >= self.log_cap:
                return
            room = self.log_cap - size
            if len(text) > room:
                text = text[:room] + TRUNCATION_MARKER
                new_size = self.log_cap
            else:
                new_size = size + len(text)
            seq = conn.execute(
                select(func.coalesce(func.max(build_logs.c.seq), 0)).where(
                    build_logs.c.build_id == build_id
                )
            ).scalar_one()
            conn.execute(insert(build_logs).values(build_id=build_id, seq=seq + 1, text=text))
            conn.execute(update(builds).where(builds.c.id == build_id).values(log_size=new_size))

    def log_chunks(self, build_id: str, *, after_seq: int = 0) -> list[tuple[int, str]]:
        """Log chunks with seq > after_seq, in order (for live streaming)."""
        query = (
            select(build_logs.c.seq, build_logs.c.text)
            .where(build_logs.c.build_id == build_id, build_logs.c.seq > after_seq)
            .order_by(build_logs.c.seq)
        )
        with self.engine.connect() as conn:
            return [(int(seq), str(text)) for seq, text in conn.execute(query).all()]

    def get_log(self, build_id: str) -> str:
        """The whole log of a build."""
        return "".join(text for _, text in self.log_chunks(build_id))


def _build_from_row(row: Any) -> BuildRecord:
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
    )


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
        }
        for build_id, plan in zip(ids, plans, strict=True)
    ]
