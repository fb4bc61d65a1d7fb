"""The notifications outbox: what is to be sent, who sends it now, and what each answer was
(database I/O).

A sender claims one due row at a time with a conditional UPDATE (state `sending` and a lease),
so several notifiers never send one row twice at once; a sender that dies leaves its lease to
expire and the row is due again. Commit statuses of one target are sent in event order: a
newer one waits while an older one is being sent or was never tried, and an older one still
being retried is skipped once a newer status exists (the forge must end on the newest).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select, update

from core.notify.request import OutgoingRequest
from core.notify.targets import KIND_COMMIT_STATUS
from records.db import Clock, iso, utcnow
from records.schema import build_events, notifications

ANSWER_LIMIT = 1000
"""Characters of an answer (status line, body excerpt or error) kept with a notification."""
SKIPPED_ANSWER = "not sent: a newer status of this build replaced it while it was retried"


class NotificationState(StrEnum):
    """Where a notification is; the value is what the database and the API hold."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class NotificationRecord:
    """One notification as stored; `to_dict` is the API's NOTIFICATION object."""

    id: str
    build_id: str
    event_id: int
    kind: str
    target: str
    target_key: str
    event: str
    request: OutgoingRequest
    state: NotificationState
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_answer: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the API returns (no body, no secrets)."""
        return {
            "id": self.id, "build_id": self.build_id, "kind": self.kind, "target": self.target,
            "event": self.event, "state": self.state.value, "attempts": self.attempts,
            "last_status": self.last_status, "last_answer": self.last_answer,
            "next_attempt_at": iso(self.next_attempt_at)
            if self.state is NotificationState.PENDING else None,
            "created_at": iso(self.created_at), "updated_at": iso(self.updated_at),
            "sent_at": iso(self.sent_at),
        }


def notification_from_row(row: Any) -> NotificationRecord:
    """The record of one `notifications` row."""
    return NotificationRecord(
        id=row["id"], build_id=row["build_id"], event_id=row["event_id"], kind=row["kind"],
        target=row["target"], target_key=row["target_key"], event=row["event"],
        request=OutgoingRequest.from_dict(json.loads(row["request"]), row["body"].encode()),
        state=NotificationState(row["state"]), attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"], last_status=row["last_status"],
        last_answer=row["last_answer"], created_at=row["created_at"],
        updated_at=row["updated_at"], sent_at=row["sent_at"],
    )


class Outbox:
    """Claims, answers and lists notifications through one SQLAlchemy engine."""

    def __init__(self, engine: Engine, *, clock: Clock = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def for_build(self, build_id: str) -> list[NotificationRecord]:
        """A build's notifications in event order."""
        query = (select(notifications).where(notifications.c.build_id == build_id)
                 .order_by(notifications.c.event_id, notifications.c.target_key))
        with self.engine.connect() as conn:
            return [notification_from_row(r) for r in conn.execute(query).mappings().all()]

    def claim_next(self, build_id: str, *, lease: timedelta) -> NotificationRecord | None:
        """The next due notification of a build, now `sending` for this caller; None when
        nothing of the build can be sent now."""
        for _ in range(5):  # another sender may win a row: look again
            chosen, obsolete = self._choose(build_id)
            now = self.clock()
            with self.engine.begin() as conn:
                if obsolete:
                    conn.execute(update(notifications).where(
                        notifications.c.id.in_(obsolete),
                        notifications.c.state == NotificationState.PENDING,
                    ).values(state=NotificationState.SKIPPED, last_answer=SKIPPED_ANSWER,
                             updated_at=now))
                if chosen is None:
                    return None
                won = conn.execute(update(notifications).where(
                    notifications.c.id == chosen,
                    notifications.c.state == NotificationState.PENDING,
                ).values(state=NotificationState.SENDING, attempts=notifications.c.attempts + 1,
                         lease_until=now + lease, updated_at=now)).rowcount
                if won:
                    row = conn.execute(select(notifications).where(
                        notifications.c.id == chosen)).mappings().one()
                    return notification_from_row(row)
        return None

    def _choose(self, build_id: str) -> tuple[str | None, list[str]]:
        """(the row to send next, rows made obsolete by a newer status of their target)."""
        now = self.clock()
        c = notifications.c
        query = (select(c.id, c.kind, c.target_key, c.event_id, c.state, c.attempts,
                        c.next_attempt_at)
                 .where(c.build_id == build_id,
                        c.state.in_([NotificationState.PENDING, NotificationState.SENDING]))
                 .order_by(c.event_id, c.target_key))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        obsolete: list[str] = []
        for row in rows:
            if row["state"] != NotificationState.PENDING or row["next_attempt_at"] > now:
                continue
            if row["kind"] == KIND_COMMIT_STATUS:
                same = [o for o in rows if o["target_key"] == row["target_key"]
                        and o["id"] != row["id"]]
                if any(o["event_id"] < row["event_id"] and (
                        o["state"] == NotificationState.SENDING or o["attempts"] == 0)
                       for o in same):
                    continue  # an earlier status of this target goes first
                if row["attempts"] > 0 and any(o["event_id"] > row["event_id"] for o in same):
                    obsolete.append(row["id"])
                    continue
            return row["id"], obsolete
        return None, obsolete

    def record(self, notification_id: str, *, state: NotificationState, status: int | None,
               answer: str, retry_in: float = 0.0) -> None:
        """Keep the answer of a `sending` row's attempt and move it to `state`."""
        now = self.clock()
        values: dict[str, Any] = {"state": state, "last_status": status,
                                  "last_answer": answer[:ANSWER_LIMIT], "updated_at": now,
                                  "lease_until": None}
        if state is NotificationState.PENDING:
            values["next_attempt_at"] = now + timedelta(seconds=retry_in)
        if state is NotificationState.SENT:
            values["sent_at"] = now
        with self.engine.begin() as conn:
            conn.execute(update(notifications).where(
                notifications.c.id == notification_id,
                notifications.c.state == NotificationState.SENDING).values(**values))

    def next_attempt(self, build_id: str) -> datetime | None:
        """When the build's earliest pending notification is due, or None."""
        query = select(func.min(notifications.c.next_attempt_at)).where(
            notifications.c.build_id == build_id,
            notifications.c.state == NotificationState.PENDING)
        with self.engine.connect() as conn:
            found: datetime | None = conn.execute(query).scalar_one_or_none()
        return found

    def release_expired(self) -> int:
        """Make rows whose sender died (lease over) due again; returns how many."""
        now = self.clock()
        with self.engine.begin() as conn:
            return int(conn.execute(update(notifications).where(
                notifications.c.state == NotificationState.SENDING,
                notifications.c.lease_until < now,
            ).values(state=NotificationState.PENDING, lease_until=None, next_attempt_at=now,
                     updated_at=now)).rowcount)

    def due_builds(self, *, grace: timedelta, limit: int = 100) -> list[str]:
        """Builds with work nobody took: events not expanded `grace` after they happened,
        retries now due, and notifications left pending for longer than `grace`."""
        now = self.clock()
        cutoff = now - grace
        c = notifications.c
        unexpanded = (select(build_events.c.build_id).where(
            build_events.c.expanded_at.is_(None), build_events.c.at < cutoff)
            .group_by(build_events.c.build_id).limit(limit))
        due = (select(c.build_id).where(
            c.state == NotificationState.PENDING, c.next_attempt_at <= now,
            or_(c.attempts > 0, and_(c.attempts == 0, c.created_at < cutoff)))
            .group_by(c.build_id).limit(limit))
        with self.engine.connect() as conn:
            found = list(conn.execute(unexpanded).scalars()) + list(conn.execute(due).scalars())
        return list(dict.fromkeys(str(b) for b in found))[:limit]
