"""What one verified delivery builds, and why nothing else: the webhook's decision (no I/O).

`decide` matches every pushed ref against the repository's rules, drops the work an earlier
build already does (asked through the `earlier` callback, which the caller answers from the
system of record), and explains in one sentence per ref why anything was left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from core.events import Ignored, ParseResult, Ping, PushEvent
from core.matching import match
from core.plan import BuildPlan
from core.rules import RepositoryConfig


class DeliveryOutcome(StrEnum):
    """What became of a delivery; the value is what the delivery log and the API hold."""

    QUEUED = "queued"
    IGNORED = "ignored"
    REJECTED = "rejected"
    PING = "ping"
    DUPLICATE = "duplicate"

    @property
    def built_nothing(self) -> bool:
        """True for deliveries that queued no build and say why (the dashboard lists them)."""
        return self in (DeliveryOutcome.IGNORED, DeliveryOutcome.REJECTED)


@dataclass(frozen=True)
class EarlierBuild:
    """A build already doing a plan's work: its id and status."""

    id: str
    status: str


EarlierLookup = Callable[[BuildPlan], EarlierBuild | None]
"""Asks the system of record whether a build already does this plan's work."""


@dataclass(frozen=True)
class Decision:
    """The outcome of one delivery, the builds to queue, the refs it named and why."""

    outcome: DeliveryOutcome
    plans: tuple[BuildPlan, ...] = ()
    refs: tuple[str, ...] = ()
    reason: str | None = None


def decide(repo: RepositoryConfig, parsed: ParseResult, *, earlier: EarlierLookup) -> Decision:
    """The builds a verified delivery for `repo` queues, or why it queues none."""
    if isinstance(parsed, Ping):
        return Decision(DeliveryOutcome.PING, reason=parsed.message)
    if isinstance(parsed, Ignored):
        return Decision(DeliveryOutcome.IGNORED, refs=parsed.refs, reason=parsed.reason)
    events: list[PushEvent] = parsed
    plans: list[BuildPlan] = []
    reasons: list[str] = []
    for event in events:
        result = match(repo, event)
        prefix = f"{event.ref}: " if len(events) > 1 else ""
        if not result.plans:
            reasons.append(prefix + result.explanation())
        for plan in result.plans:
            found = earlier(plan)
            if found is None:
                plans.append(plan)
            else:
                reasons.append(f"{prefix}rule {plan.rule_index + 1}: {_no_op(plan, found)}")
    refs = tuple(event.ref for event in events)
    reason = "; ".join(reasons) or None
    if not plans:
        return Decision(DeliveryOutcome.IGNORED, refs=refs, reason=reason or "no ref changed")
    return Decision(DeliveryOutcome.QUEUED, tuple(plans), refs, reason)


def _no_op(plan: BuildPlan, earlier: EarlierBuild) -> str:
    """Why a plan adds nothing to what `earlier` does."""
    if earlier.status == "success":
        return (f"its tags for {plan.ref} already hold commit {plan.short_commit} "
                f"(build {earlier.id})")
    return (f"commit {plan.short_commit} of {plan.ref} is already {earlier.status} as build "
            f"{earlier.id}")


def decide_unrouted(parsed: ParseResult) -> Decision:
    """The outcome of a delivery that names no repository, such as an organisation's ping;
    it builds nothing and is not recorded (no repository's secret could verify it)."""
    if isinstance(parsed, Ping):
        return Decision(DeliveryOutcome.PING, reason=parsed.message)
    if isinstance(parsed, Ignored):
        return Decision(DeliveryOutcome.IGNORED, reason=parsed.reason)
    return Decision(DeliveryOutcome.REJECTED, reason="the payload names no repository")
