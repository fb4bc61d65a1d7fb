"""Delivering one build's notifications: expand its new events, then claim, send and record
each due notification in order (database and network I/O).

A notification failure never touches the build: only its own row records the answer.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from core.notify.retry import Verdict, decide
from notify.http import HttpClient
from notify.queue import NotificationQueue
from notify.sender import send
from records.notify_fanout import expand_events
from records.outbox import NotificationRecord, NotificationState, Outbox

logger = logging.getLogger(__name__)
LEASE = timedelta(seconds=120)
"""How long a claimed notification is this sender's (well over one request's deadline)."""
PER_JOB = 50
"""Notifications one job sends at most; a build with more is enqueued again."""
STATES = {Verdict.SENT: NotificationState.SENT, Verdict.RETRY: NotificationState.PENDING,
          Verdict.FAILED: NotificationState.FAILED}


@dataclass
class Notifier:
    """Sends the outbox's notifications of one build at a time."""

    outbox: Outbox
    client: HttpClient
    environ: Mapping[str, str]
    public_url: str = ""
    backoff: float = 10.0
    queue: NotificationQueue | None = None
    jitter: Callable[[], float] = field(default=random.random)

    def deliver(self, build_id: str, *, limit: int = PER_JOB) -> list[NotificationRecord]:
        """Expand the build's new events and send what is due; returns the rows attempted."""
        expand_events(self.outbox.engine, public_url=self.public_url, now=self.outbox.clock(),
                      build_id=build_id)
        attempted: list[NotificationRecord] = []
        retry_in: list[float] = []
        while len(attempted) < limit:
            row = self.outbox.claim_next(build_id, lease=LEASE)
            if row is None:
                break
            attempted.append(row)
            delay = self.attempt(row)
            if delay is not None:
                retry_in.append(delay)
        if len(attempted) >= limit:
            retry_in.append(0.0)
        if retry_in and self.queue is not None:
            try:
                self.queue.enqueue(build_id, delay=min(retry_in))
            except Exception:  # noqa: BLE001 - the sweep enqueues due retries too
                logger.warning("could not schedule the retry of build %s's notifications",
                               build_id, exc_info=True)
        return attempted

    def attempt(self, row: NotificationRecord) -> float | None:
        """Send one claimed notification and record its answer; the retry delay, if any."""
        attempt = send(row.request, client=self.client, environ=self.environ)
        decision = decide(status=attempt.status, error=attempt.error,
                          retry_after=attempt.retry_after, attempts=row.attempts,
                          now=self.outbox.clock(), base=self.backoff, jitter=self.jitter)
        verdict = Verdict.FAILED if attempt.final else decision.verdict
        answer = attempt.answer + (f" ({decision.reason})" if decision.reason else "")
        self.outbox.record(row.id, state=STATES[verdict], status=attempt.status,
                           answer=answer, retry_in=decision.delay)
        log = logger.info if verdict is Verdict.SENT else logger.warning
        log("%s %s of build %s (%s) to %s: %s", row.kind, row.event, row.build_id,
            verdict.value, row.target, answer)
        return decision.delay if verdict is Verdict.RETRY else None
