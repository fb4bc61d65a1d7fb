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
        while len(attempted) < limit:
            row = self.outbox.claim_next(build_id, lease=LEASE)
            if row is None:
                break
            attempted.append(row)
            self.attempt(row)
        if attempted:
            self._schedule_next(build_id)
        return attempted

    def _schedule_next(self, build_id: str) -> None:
        """Queue a job for when the build's next pending notification is due (a retry, or
        rows past this job's limit); the sweep does it too, this only comes sooner."""
        due = self.outbox.next_attempt(build_id)
        if due is None or self.queue is None:
            return
        delay = max(0.0, (due - self.outbox.clock()).total_seconds())
        try:
            self.queue.enqueue(build_id, delay=delay)
        except Exception:  # noqa: BLE001 - the sweep enqueues due retries too
            logger.warning("could not schedule the retry of build %s's notifications",
                           build_id, exc_info=True)

    def attempt(self, row: NotificationRecord) -> None:
        """Send one claimed notification and record its answer."""
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
