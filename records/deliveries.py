"""DeliveryLog: every webhook delivery and what we did with it (database I/O)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from core.decision import DeliveryOutcome
from core.plan import BuildPlan
from records.builds import (
    BuildRecord,
    BuildStore,
    build_rows,
    insert_build_rows,
    queued_records,
)
from records.db import iso, new_build_id
from records.schema import deliveries


@dataclass(frozen=True)
class DeliveryRecord:
    """One webhook delivery and what we did with it."""

    id: int
    forge: str
    delivery_id: str | None
    event: str
    repository: str | None
    refs: tuple[str, ...]
    outcome: DeliveryOutcome
    reason: str | None
    build_ids: tuple[str, ...]
    status_code: int
    received_at: datetime

    def to_dict(self, *, show_rejected_ids: bool = True) -> dict[str, Any]:
        """The JSON shape the API returns; anonymous readers do not see the ids of rejected
        deliveries (an unsigned sender could otherwise learn ids to replay elsewhere)."""
        hidden = not show_rejected_ids and self.outcome is DeliveryOutcome.REJECTED
        return {
            "id": self.id,
            "forge": self.forge,
            "delivery_id": None if hidden else self.delivery_id,
            "event": self.event,
            "repository": self.repository,
            "refs": list(self.refs),
            "outcome": self.outcome.value,
            "reason": self.reason,
            "build_ids": list(self.build_ids),
            "status_code": self.status_code,
            "received_at": iso(self.received_at),
        }


class DeliveryLog:
    """Records deliveries; accepted ones are deduplicated on (forge, delivery id)."""

    def __init__(self, engine: Engine, builds_store: BuildStore) -> None:
        self.engine = engine
        self.builds = builds_store

    def find_delivery(self, forge: str, repository: str | None,
                      delivery_id: str) -> DeliveryRecord | None:
        """The accepted delivery of this forge, repository and id, if we have seen it."""
        if not delivery_id:
            return None
        key = dedupe_key(forge, repository, delivery_id)
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(deliveries).where(deliveries.c.dedupe_key == key))
                .mappings()
                .first()
            )
        return delivery_from_row(row) if row else None

    def record_delivery(
        self,
        *,
        forge: str,
        delivery_id: str | None,
        event: str,
        repository: str | None,
        refs: Sequence[str],
        outcome: DeliveryOutcome,
        reason: str | None,
        status_code: int,
        plans: Sequence[BuildPlan] = (),
        accepted: bool,
    ) -> tuple[DeliveryRecord, list[BuildRecord]] | None:
        """Record a delivery and create its builds atomically.

        Returns None when an accepted delivery with the same id exists already (a redelivery):
        the caller answers "duplicate" and nothing is created twice.
        """
        now = self.builds.clock()
        key = dedupe_key(forge, repository, delivery_id) if accepted and delivery_id else None
        ids = [new_build_id(now) for _ in plans]
        values = {
            "forge": forge,
            "delivery_id": (delivery_id or "")[:MAX_ID] or None,
            "dedupe_key": key,
            "event": event[:64],
            "repository": repository[:MAX_NAME] if repository else None,
            "refs": json.dumps([ref[:MAX_NAME] for ref in refs[:MAX_REFS]]),
            "outcome": outcome.value,
            "reason": cut(reason, MAX_REASON),
            "build_ids": json.dumps(ids),
            "status_code": status_code,
            "received_at": now,
        }
        rows = build_rows(ids, plans, delivery_id=delivery_id, now=now)  # before the write lock
        try:
            with self.engine.begin() as conn:
                result = conn.execute(INSERT_DELIVERY, values)
                if plans:
                    insert_build_rows(conn, rows, plans, now=now)
                pk = result.inserted_primary_key
        except IntegrityError:
            if key is not None:
                return None
            raise
        assert pk is not None
        # what was just written, without reading it back (one transaction per delivery)
        record = delivery_from_row(dict(values, id=int(pk[0])))
        return record, queued_records(ids, plans, delivery_id=delivery_id, now=now)

    def get_delivery(self, pk: int) -> DeliveryRecord | None:
        """A delivery by its row id."""
        with self.engine.connect() as conn:
            row = conn.execute(select(deliveries).where(deliveries.c.id == pk)).mappings().first()
        return delivery_from_row(row) if row else None

    def recent_deliveries(
        self, *, limit: int = 50, offset: int = 0, not_built: bool = False
    ) -> list[DeliveryRecord]:
        """Deliveries newest first; `not_built` keeps those that queued no build."""
        query = select(deliveries).order_by(deliveries.c.id.desc())
        if not_built:
            query = query.where(deliveries.c.outcome.in_(
                [o.value for o in DeliveryOutcome if o.built_nothing]))
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit).offset(offset)).mappings().all()
        return [delivery_from_row(r) for r in rows]


INSERT_DELIVERY = insert(deliveries)
"""Executed with the row as parameters: built once, its compiled form cached."""
MAX_ID = 128
MAX_NAME = 255
MAX_REFS = 100
MAX_REASON = 4000
"""What a delivery log row keeps at most: anything a stranger sends is bounded."""


def cut(text: str | None, limit: int) -> str | None:
    """`text`, cut to `limit` characters with a marker saying so."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 20] + " … (cut; too long)"


def dedupe_key(forge: str, repository: str | None, delivery_id: str) -> str:
    """What makes a delivery a redelivery: its forge, repository and id together, so one
    repository's deliveries can never pass for another's (migration 0003 rewrote older keys)."""
    text = json.dumps([forge, repository, delivery_id])
    return "v2:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def delivery_from_row(row: Any) -> DeliveryRecord:
    return DeliveryRecord(
        id=row["id"],
        forge=row["forge"],
        delivery_id=row["delivery_id"],
        event=row["event"],
        repository=row["repository"],
        refs=tuple(json.loads(row["refs"])),
        outcome=DeliveryOutcome(row["outcome"]),
        reason=row["reason"],
        build_ids=tuple(json.loads(row["build_ids"])),
        status_code=row["status_code"],
        received_at=row["received_at"],
    )
