"""TriggerLog: every call of a Docker Hub trigger URL and what it built (database I/O)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from core.triggers import TriggerOutcome
from records.db import Clock, iso, utcnow
from records.schema import trigger_log

MAX_CLIENT_CHARS = 64


@dataclass(frozen=True)
class TriggerRecord:
    """One trigger call, in the order of Docker Hub's trigger log: when, from where, for which
    repository, its outcome and why, the body (tokens masked), and the builds."""

    id: int
    received_at: datetime
    client: str
    repository: str | None
    provider: str | None
    url_shape: str
    status_code: int
    outcome: TriggerOutcome
    reason: str | None
    body: str
    build_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the API returns."""
        return {
            "id": self.id, "repository": self.repository, "provider": self.provider,
            "url_shape": self.url_shape, "client": self.client, "body": self.body,
            "outcome": self.outcome.value, "reason": self.reason,
            "build_ids": list(self.build_ids), "status_code": self.status_code,
            "received_at": iso(self.received_at),
        }


class TriggerLog:
    """Records trigger calls and reads them back, newest first."""

    def __init__(self, engine: Engine, *, clock: Clock = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def record(self, *, repository: str | None, provider: str | None, url_shape: str,
               client: str, body: str, outcome: TriggerOutcome, reason: str | None,
               build_ids: Sequence[str], status_code: int) -> TriggerRecord:
        """Store one call; the client address is cut to a bounded length."""
        with self.engine.begin() as conn:
            result = conn.execute(insert(trigger_log).values(
                repository=repository, provider=provider, url_shape=url_shape,
                client=client[:MAX_CLIENT_CHARS], body=body, outcome=outcome.value,
                reason=reason, build_ids=json.dumps(list(build_ids)),
                status_code=status_code, received_at=self.clock()))
            key = result.inserted_primary_key
        assert key is not None
        with self.engine.connect() as conn:
            row = conn.execute(select(trigger_log).where(trigger_log.c.id == key[0])
                               ).mappings().one()
        return trigger_from_row(row)

    def list_calls(self, *, limit: int, offset: int = 0, repository: str | None = None,
                   provider: str | None = None) -> list[TriggerRecord]:
        """One page of calls, newest first, optionally of one repository (and provider)."""
        query = select(trigger_log).order_by(trigger_log.c.id.desc())
        if repository is not None:
            query = query.where(trigger_log.c.repository == repository)
        if provider is not None:
            query = query.where(trigger_log.c.provider == provider)
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit).offset(offset)).mappings().all()
        return [trigger_from_row(row) for row in rows]


def trigger_from_row(row: Any) -> TriggerRecord:
    """The TriggerRecord of one `trigger_log` row."""
    return TriggerRecord(
        id=row["id"], repository=row["repository"], provider=row["provider"],
        url_shape=row["url_shape"], client=row["client"], body=row["body"],
        outcome=TriggerOutcome(row["outcome"]), reason=row["reason"],
        build_ids=tuple(json.loads(row["build_ids"])), status_code=row["status_code"],
        received_at=row["received_at"],
    )
