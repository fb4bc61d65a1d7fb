"""RebuildLog: what rebuilt builds without a push, and what it decided per rule (database I/O).

Every registry notification, poll that found a change, and schedule run is a rebuild event;
each rule it concerned gets a decision (core.rebuilds.Verdict) with its reason. A rebuild is
queued together with its claim (origin, rule and ref) in one transaction, so two web processes
or schedulers racing on one change queue it once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from core.plan import BuildPlan
from core.rebuilds import RebuildCause, RuleRef, Verdict
from records.builds import BuildRecord, BuildStore, insert_builds
from records.db import Clock, iso, new_build_id, utcnow
from records.schema import builds, rebuild_claims, rebuild_decisions, rebuild_events

QUEUED, IGNORED = "queued", "ignored"


@dataclass(frozen=True)
class Decision:
    """What one event did for one rule, and why; `build_id` is the rebuild (or the build that
    already did the work)."""

    rule: RuleRef
    verdict: Verdict
    reason: str
    build_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape answers and the API use."""
        return {**self.rule.to_dict(), "verdict": self.verdict.value, "reason": self.reason,
                "build_id": self.build_id}


@dataclass(frozen=True)
class RebuildEvent:
    """A notification, poll or schedule run, with its decisions."""

    id: int
    kind: str
    origin: str
    reference: str | None
    digest: str | None
    pusher_build_id: str | None
    outcome: str
    reason: str | None
    build_ids: tuple[str, ...]
    received_at: datetime
    decisions: tuple[Decision, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape answers and the API use."""
        return {"id": self.id, "kind": self.kind, "origin": self.origin,
                "reference": self.reference, "digest": self.digest,
                "pusher_build_id": self.pusher_build_id, "outcome": self.outcome,
                "reason": self.reason, "build_ids": list(self.build_ids),
                "received_at": iso(self.received_at),
                "decisions": [d.to_dict() for d in self.decisions]}


class RebuildLog:
    """Records rebuild events, their decisions and claims; reads them back."""

    def __init__(self, engine: Engine, store: BuildStore, *, clock: Clock = utcnow) -> None:
        self.engine = engine
        self.store = store
        self.clock = clock

    def open_event(self, kind: str, origin: str, *, reference: str | None = None,
                   digest: str | None = None, pusher_build_id: str | None = None,
                   dedupe_key: str | None = None) -> int | None:
        """Start recording an event; None when `dedupe_key` was recorded before."""
        try:
            with self.engine.begin() as conn:
                result = conn.execute(insert(rebuild_events).values(
                    kind=kind, origin=origin, reference=reference, digest=digest,
                    pusher_build_id=pusher_build_id, dedupe_key=dedupe_key, outcome=IGNORED,
                    build_ids="[]", received_at=self.clock()))
        except IntegrityError:
            return None
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def drop_event(self, event_id: int) -> None:
        """Forget an event whose handling failed, so that its redelivery is handled."""
        with self.engine.begin() as conn:
            conn.execute(delete(rebuild_decisions).where(
                rebuild_decisions.c.event_id == event_id))
            conn.execute(delete(rebuild_events).where(rebuild_events.c.id == event_id))

    def close_event(self, event_id: int, decisions: Sequence[Decision], *,
                    reason: str) -> RebuildEvent:
        """Record the event's decisions and outcome: queued when a rebuild was."""
        queued = [d.build_id for d in decisions if d.verdict is Verdict.QUEUED and d.build_id]
        now = self.clock()
        with self.engine.begin() as conn:
            if decisions:
                conn.execute(insert(rebuild_decisions), [{
                    "event_id": event_id, "repository": d.rule.repository,
                    "provider": d.rule.provider, "rule_index": d.rule.rule_index,
                    "ref": d.rule.ref, "verdict": d.verdict.value, "reason": d.reason,
                    "build_id": d.build_id, "decided_at": now} for d in decisions])
            conn.execute(update(rebuild_events).where(rebuild_events.c.id == event_id).values(
                outcome=QUEUED if queued else IGNORED, reason=reason,
                build_ids=json.dumps(queued)))
        found = self.get_events([event_id])
        return found[0]

    def create_rebuild(self, plan: BuildPlan, *, claim: str, cause: RebuildCause
                       ) -> BuildRecord | None:
        """Queue a rebuild and its claim together; None when the claim was taken before."""
        now = self.clock()
        build_id = new_build_id(now)
        try:
            with self.engine.begin() as conn:
                insert_builds(conn, [build_id], [plan], delivery_id=None, now=now)
                conn.execute(update(builds).where(builds.c.id == build_id).values(
                    cause=json.dumps(cause.to_dict())))
                conn.execute(insert(rebuild_claims).values(
                    claim_key=claim, origin=cause.origin, build_id=build_id, created_at=now))
        except IntegrityError:
            return None
        return self.store.get_build(build_id)

    def claimed_by(self, claim: str) -> str | None:
        """The build that took `claim`."""
        with self.engine.connect() as conn:
            found = conn.execute(select(rebuild_claims.c.build_id).where(
                rebuild_claims.c.claim_key == claim)).scalar_one_or_none()
        return str(found) if found else None

    def get_events(self, event_ids: Sequence[int]) -> list[RebuildEvent]:
        """These events with their decisions, newest first."""
        if not event_ids:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(select(rebuild_events).where(
                rebuild_events.c.id.in_(list(event_ids))).order_by(
                rebuild_events.c.id.desc())).mappings().all()
            found = conn.execute(select(rebuild_decisions).where(
                rebuild_decisions.c.event_id.in_(list(event_ids))).order_by(
                rebuild_decisions.c.id)).mappings().all()
        by_event: dict[int, list[Decision]] = {}
        for row in found:
            by_event.setdefault(int(row["event_id"]), []).append(_decision(row))
        return [_event(row, by_event.get(int(row["id"]), [])) for row in rows]

    def recent_events(self, *, limit: int, offset: int = 0,
                      repository: str | None = None) -> list[RebuildEvent]:
        """One page of events, newest first (those with a decision about `repository`)."""
        query = select(rebuild_events.c.id).order_by(rebuild_events.c.id.desc())
        if repository is not None:
            query = query.where(rebuild_events.c.id.in_(
                select(rebuild_decisions.c.event_id).where(
                    rebuild_decisions.c.repository == repository)))
        with self.engine.connect() as conn:
            ids = [int(i) for i in conn.execute(query.limit(limit).offset(offset)).scalars()]
        return self.get_events(ids)

    def pushed_by(self, build_id: str) -> list[RebuildEvent]:
        """The events caused by a build's own pushes (its images are others' bases)."""
        with self.engine.connect() as conn:
            ids = [int(i) for i in conn.execute(select(rebuild_events.c.id).where(
                rebuild_events.c.pusher_build_id == build_id).limit(20)).scalars()]
        return self.get_events(ids)


def _decision(row: Any) -> Decision:
    return Decision(rule=RuleRef(row["repository"], row["provider"], int(row["rule_index"]),
                                 row["ref"]),
                    verdict=Verdict(row["verdict"]), reason=row["reason"],
                    build_id=row["build_id"])


def _event(row: Any, decisions: list[Decision]) -> RebuildEvent:
    return RebuildEvent(
        id=int(row["id"]), kind=row["kind"], origin=row["origin"], reference=row["reference"],
        digest=row["digest"], pusher_build_id=row["pusher_build_id"], outcome=row["outcome"],
        reason=row["reason"], build_ids=tuple(json.loads(row["build_ids"])),
        received_at=row["received_at"], decisions=tuple(decisions))
