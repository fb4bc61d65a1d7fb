"""Webhook intake: one delivery in, its builds recorded and queued, or its reason recorded.

The steps, each owned elsewhere: the forge adapter reads the Envelope (core/forges), the
signature is checked over the raw bytes (core/signatures), `decide` says what to build
(core/decision), the delivery and its builds are recorded in one transaction
(records/deliveries) and then queued (service/queueing). The caller only speaks HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.decision import Decision, DeliveryOutcome, EarlierBuild, decide, decide_unrouted
from core.envelope import Envelope
from core.errors import HookError, SignatureError
from core.forges import ForgeAdapter
from core.plan import BuildPlan
from core.signatures import verify_signature
from records.tag_history import holding_commit
from service.extensions import build_queue, delivery_log, refusal_budget, rules, store
from service.queueing import enqueue_all


@dataclass(frozen=True)
class Answer:
    """The HTTP status and JSON body to send back to the forge."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)


@dataclass
class Intake:
    """One delivery on its way through: what is known of it so far, and how to record it."""

    forge: str
    delivery: Envelope
    event: str
    delivery_id: str
    repository: str | None = None

    def record(self, status: int, outcome: DeliveryOutcome, reason: str | None, *,
               refs: tuple[str, ...] = (), plans: tuple[BuildPlan, ...] = (),
               accepted: bool = False, extra: dict[str, Any] | None = None) -> Answer:
        """Record the delivery (and its builds, atomically), queue the builds, and answer.

        Refusals are recorded within the process's RefusalBudget; past it only counted."""
        if outcome is DeliveryOutcome.REJECTED and not refusal_budget().allow():
            return Answer(status, {"error": reason})
        recorded = delivery_log().record_delivery(
            forge=self.forge, delivery_id=self.delivery_id, event=self.event,
            repository=self.repository, refs=refs, outcome=outcome, reason=reason,
            status_code=status, plans=plans, accepted=accepted,
        )
        if recorded is None:
            return self.duplicate()
        _, builds = recorded
        enqueue_all(build_queue(), builds)
        body: dict[str, Any] = dict(extra or {})
        if outcome in (DeliveryOutcome.QUEUED, DeliveryOutcome.IGNORED):
            body["builds"] = [b.to_dict() for b in builds]
        if outcome is DeliveryOutcome.IGNORED:
            body["ignored"] = reason
        elif outcome is DeliveryOutcome.REJECTED:
            body["error"] = reason
        return Answer(status, body)

    def duplicate(self) -> Answer:
        """The answer to a redelivery: the original builds, nothing queued again."""
        original = delivery_log().find_delivery(self.forge, self.repository, self.delivery_id)
        builds = store().get_builds(original.build_ids) if original else []
        return Answer(200, {"duplicate": True, "builds": [b.to_dict() for b in builds],
                            "message": f"delivery {self.delivery_id} was already received; "
                                       "nothing was queued again"})


def take_delivery(forge: str, adapter: ForgeAdapter, headers: Mapping[str, str],
                  body: bytes) -> Answer:
    """Verify, decide, record and queue one delivery; every refusal is recorded with why."""
    delivery = adapter.envelope(headers, body)
    intake = Intake(forge, delivery, adapter.event_name(delivery) or "(none)",
                    adapter.delivery_id(delivery))
    try:
        intake.repository = adapter.repository_name(delivery)
        if intake.repository is None:
            return _unrecorded(decide_unrouted(adapter.parse(delivery)))
        repo = rules().find(forge, intake.repository)
        if repo is None:
            reason = f"repository {intake.repository!r} is not configured for {forge}"
            return intake.record(404, DeliveryOutcome.REJECTED, reason)
        if repo.secrets or not repo.insecure_no_secret:
            verify_signature(forge, delivery.body, headers=delivery.headers, secrets=repo.secrets)
        # a redelivery is told apart by the delivery log's unique key when it is recorded
        decision = decide(repo, adapter.parse(delivery), earlier=_earlier_build)
    except SignatureError as exc:
        return intake.record(401, DeliveryOutcome.REJECTED,
                             f"signature check failed: {exc.message}")
    except HookError as exc:
        return intake.record(exc.status, DeliveryOutcome.REJECTED, exc.message)
    if decision.outcome is DeliveryOutcome.PING:
        return intake.record(200, decision.outcome, decision.reason, accepted=True,
                             extra={"message": f"pong: {decision.reason}"})
    return intake.record(202, decision.outcome, decision.reason, refs=decision.refs,
                         plans=decision.plans, accepted=True)


def _unrecorded(decision: Decision) -> Answer:
    """The answer to a delivery that names no repository."""
    if decision.outcome is DeliveryOutcome.PING:
        return Answer(200, {"message": f"pong: {decision.reason}"})
    if decision.outcome is DeliveryOutcome.IGNORED:
        return Answer(202, {"builds": [], "ignored": decision.reason})
    return Answer(400, {"error": decision.reason})


def _earlier_build(plan: BuildPlan) -> EarlierBuild | None:
    """The build already doing this plan's work: its rule's tags for its ref hold the commit,
    or a build of the same rule, ref and commit is under way."""
    found = holding_commit(store(), plan)
    return EarlierBuild(found.id, found.status.value) if found else None
