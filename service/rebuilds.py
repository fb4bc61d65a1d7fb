"""Queueing rebuilds without a push: for a base change, or a schedule's run (DB and git I/O).

A rebuild goes the Build now way (service/actions.py `plans_at_head`: the ref's current head by
`git ls-remote` with the repository's git_auth, the rules in force), with `pull` so that the
build fetches its bases afresh, and is recorded with its claim (records/rebuild_log.py), so it
is queued once per origin, rule and ref, and coalesces with pushes like any other build (the
worker builds the newest commit of a rule and ref: workers/ordering.py). What to rebuild and
whether is decided in core/rebuilds.py; every decision is recorded with its reason.
"""

from __future__ import annotations

from dataclasses import replace

from core.image_refs import parse_image
from core.plan import TRIGGER_BASE_IMAGE
from core.rebuilds import (
    BaseChange,
    RebuildCause,
    RuleRef,
    Verdict,
    base_change,
    claim_key,
    judge,
    rebuild_cause,
)
from core.rules import RepositoryConfig
from records.base_users import base_users, in_progress, pushed_by
from records.builds import BuildRecord
from records.rebuild_log import Decision, RebuildEvent
from service.actions import ActionError, plans_at_head
from service.extensions import build_queue, rebuild_log, rules, store
from service.queueing import enqueue_all

QUIET = (Verdict.SAME_DIGEST, Verdict.ALREADY_REBUILT, Verdict.IN_PROGRESS, Verdict.OFF)
"""Decisions a repeated poll of a change needs not record again."""


def change_seen(reference: str, digest: str, *, source: str) -> tuple[BaseChange, str | None]:
    """The change `reference → digest` in its cascade, and our build that pushed it (if any)."""
    image = parse_image(reference)
    mine = [(repo.name, repo.provider) for repo in rules().repositories
            if image is not None and (own := parse_image(repo.image)) is not None
            and own.repository == image.repository]
    pusher = pushed_by(store(), mine, reference, digest)
    made_by = (_rule_of(pusher), pusher.cause) if pusher is not None else None
    return base_change(reference, digest, source=source, pusher=made_by), (
        pusher.id if pusher else None)


def _rule_of(build: BuildRecord) -> RuleRef:
    return RuleRef(build.repository, build.provider, build.rule_index, build.ref)


def take_change(change: BaseChange, *, kind: str, pusher_id: str | None = None,
                dedupe_key: str | None = None, quiet: bool = False) -> RebuildEvent | None:
    """Record the change as an event and rebuild the rules whose latest image used an older
    digest of its base; None when `dedupe_key` was taken before (a redelivery), or when
    `quiet` and nothing new happened (a poll finding a change already being rebuilt)."""
    log = rebuild_log()
    event_id = log.open_event(kind, change.origin, reference=change.reference,
                              digest=change.digest, pusher_build_id=pusher_id,
                              dedupe_key=dedupe_key)
    if event_id is None:
        return None
    try:
        decisions = rebuild_users(change, event_id)
    except BaseException:
        log.drop_event(event_id)  # so that the registry's retry is handled, not "duplicate"
        raise
    if quiet and all(d.verdict in QUIET for d in decisions):
        log.drop_event(event_id)
        return None
    return log.close_event(event_id, decisions, reason=summary(decisions, change.reference))


def rebuild_users(change: BaseChange, event_id: int) -> list[Decision]:
    """A decision for each rule whose latest image used the changed base."""
    ruleset = rules()
    keys = [(repo.name, repo.provider, rule.index) for repo in ruleset.repositories
            for rule in repo.rules]
    decisions = []
    for user in base_users(store(), keys, change.reference):
        repo = ruleset.find(user.rule.provider, user.rule.repository)
        rule = next((r for r in repo.rules if r.index == user.rule.rule_index), None) \
            if repo else None
        if repo is None or rule is None:
            decisions.append(Decision(user.rule, Verdict.OFF, "the rule is no longer configured"))
            continue
        enabled = repo.rebuild_policy(rule).rebuilds_on_base_change
        verdict, why = judge(change, user, enabled=enabled)
        if verdict is not None:
            decisions.append(Decision(user.rule, verdict, why, user.build_id))
            continue
        cause = rebuild_cause(change, user, event_id)
        decisions.append(queue_rebuild(repo, user.rule, cause, trigger=TRIGGER_BASE_IMAGE))
    return decisions


def queue_rebuild(repo: RepositoryConfig, rule: RuleRef, cause: RebuildCause, *,
                  trigger: str) -> Decision:
    """Queue one rebuild of `rule` at its ref's head, once per origin; the decision."""
    claim = claim_key(cause.origin, rule)
    if (done := rebuild_log().claimed_by(claim)) is not None:
        return Decision(rule, Verdict.ALREADY_REBUILT,
                        f"already rebuilt for this change by build {done}", done)
    try:
        (plan,) = plans_at_head(repo, rule.ref, rule_index=rule.rule_index, trigger=trigger)
    except ActionError as exc:
        return Decision(rule, Verdict.FAILED, exc.message)
    plan = replace(plan, pull=True)
    busy = in_progress(store(), plan)
    if busy is not None:
        return Decision(rule, Verdict.IN_PROGRESS, f"build {busy.id} of its head "
                        f"{plan.short_commit} is already {busy.status.value}", busy.id)
    built = rebuild_log().create_rebuild(plan, claim=claim, cause=cause)
    if built is None:
        taken = rebuild_log().claimed_by(claim)
        return Decision(rule, Verdict.ALREADY_REBUILT,
                        f"already rebuilt for this change by build {taken}", taken)
    store().append_log(built.id, f"Rebuild: {cause.describe()}. Pulling base images afresh.\n")
    enqueue_all(build_queue(), [built])
    return Decision(rule, Verdict.QUEUED, cause.describe(), built.id)


def summary(decisions: list[Decision], reference: str | None) -> str:
    """The event's reason: what it did for each rule, or that it concerned none."""
    if not decisions:
        return f"no rule's latest image uses {reference} as a base"
    return "; ".join(f"{d.rule.describe()}: {d.verdict.value.replace('_', ' ')} ({d.reason})"
                     for d in decisions)
