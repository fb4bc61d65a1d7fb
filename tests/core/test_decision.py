"""The webhook's decision, with the system of record played by a dict (core/decision.py)."""

from __future__ import annotations

from core.decision import DeliveryOutcome, EarlierBuild, decide, decide_unrouted
from core.events import Ignored, Ping, PushEvent, RefKind
from core.plan import BuildPlan
from core.rules import BuildRule, RepositoryConfig

SHA = "1" * 40
REPO = RepositoryConfig(
    name="acme/webapp", provider="github", clone_url="https://example.com/acme/webapp.git",
    image="127.0.0.1:5000/acme/webapp", secrets=("s3cret",),
    rules=(BuildRule(index=0, source_type=RefKind.BRANCH, source="main", tag="latest"),
           BuildRule(index=1, source_type=RefKind.TAG, source="/^v/", tag="{sourceref}")))


def push(ref: str, *, after: str = SHA, message: str = "Change") -> PushEvent:
    return PushEvent(provider="github", repository="acme/webapp", ref=ref, before="2" * 40,
                     after=after, head_commit_message=message)


def nothing_built(_plan: BuildPlan) -> EarlierBuild | None:
    return None


def test_a_matching_push_queues_one_plan_per_rule() -> None:
    decision = decide(REPO, [push("refs/heads/main")], earlier=nothing_built)
    assert decision.outcome is DeliveryOutcome.QUEUED
    assert [p.tags for p in decision.plans] == [("127.0.0.1:5000/acme/webapp:latest",)]
    assert decision.refs == ("refs/heads/main",) and decision.reason is None


def test_work_an_earlier_build_does_is_dropped_with_its_reason() -> None:
    def built(plan: BuildPlan) -> EarlierBuild | None:
        return EarlierBuild("b-1", "success") if plan.ref == "refs/heads/main" else None

    decision = decide(REPO, [push("refs/heads/main"), push("refs/tags/v1")], earlier=built)
    assert decision.outcome is DeliveryOutcome.QUEUED
    assert [p.ref for p in decision.plans] == ["refs/tags/v1"]
    assert decision.reason == ("refs/heads/main: rule 1: its tags for refs/heads/main already "
                               "hold commit 1111111 (build b-1)")
    queued = decide(REPO, [push("refs/heads/main")],
                    earlier=lambda plan: EarlierBuild("b-2", "queued"))
    assert queued.outcome is DeliveryOutcome.IGNORED
    assert queued.reason == ("rule 1: commit 1111111 of refs/heads/main is already queued as "
                             "build b-2")


def test_no_plan_is_ignored_with_every_rules_reason() -> None:
    decision = decide(REPO, [push("refs/heads/dev")], earlier=nothing_built)
    assert decision.outcome is DeliveryOutcome.IGNORED and decision.plans == ()
    assert decision.reason == ("rule 1 (branch main → latest): branch dev is not main; "
                               "rule 2 (tag /^v/ → {sourceref}): source_type is tag but "
                               "refs/heads/dev is a branch")


def test_pings_and_ignored_events_pass_through() -> None:
    assert decide(REPO, Ping("github"), earlier=nothing_built).outcome is DeliveryOutcome.PING
    ignored = decide(REPO, Ignored("github", "create", "create events are ignored",
                                   refs=("refs/heads/x",)), earlier=nothing_built)
    assert (ignored.outcome, ignored.refs, ignored.reason) == (
        DeliveryOutcome.IGNORED, ("refs/heads/x",), "create events are ignored")
    assert decide(REPO, [], earlier=nothing_built).reason == "no ref changed"


def test_deliveries_naming_no_repository() -> None:
    assert decide_unrouted(Ping("github", message="hi")).outcome is DeliveryOutcome.PING
    assert decide_unrouted([push("refs/heads/main")]).reason == "the payload names no repository"
    assert DeliveryOutcome.REJECTED.built_nothing and not DeliveryOutcome.PING.built_nothing
