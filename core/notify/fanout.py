"""Which notifications one build event makes, for the targets the build's plan names (no I/O).

A commit status for every reported transition when the plan has `status`; a webhook or chat
message for every `notify:` target that asked for the event. Each gets a `target_key` that is
the same for every event of the build at that target, so the sender can keep them in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.notify.facts import BuildFacts
from core.notify.request import OutgoingRequest
from core.notify.statuses import REPORTED, status_request
from core.notify.targets import KIND_COMMIT_STATUS
from core.notify.webhooks import webhook_request
from core.plan import BuildPlan
from core.status import BuildStatus


@dataclass(frozen=True)
class PlannedNotification:
    """One notification to record: its id, kind, target key, event and request."""

    id: str
    kind: str
    target_key: str
    event: str
    request: OutgoingRequest


def notifies(plan: BuildPlan, status: BuildStatus) -> bool:
    """Whether a transition to `status` makes any notification for the plan's targets (a new
    build whose plan tells nobody needs no notifier job: webhook intake skips it)."""
    return ((plan.status is not None and status in REPORTED)
            or any(status.value in target.events for target in plan.notify))


def notifications_for(plan: BuildPlan, facts: BuildFacts, *,
                      new_id: Callable[[], str]) -> list[PlannedNotification]:
    """The notifications of `facts`' transition (none for building and pushing, nor for
    endings a webhook target did not ask for)."""
    event = facts.status.value
    planned: list[PlannedNotification] = []
    if plan.status is not None and facts.status in REPORTED:
        planned.append(PlannedNotification(new_id(), KIND_COMMIT_STATUS,
                                           f"status:{plan.status.context}", event,
                                           status_request(plan.status, facts)))
    for index, target in enumerate(plan.notify):
        if event in target.events:
            delivery = new_id()
            planned.append(PlannedNotification(
                delivery, target.kind, f"notify:{index}", event,
                webhook_request(target, facts, event=event, delivery_id=delivery)))
    return planned
