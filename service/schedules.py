"""Rebuilds on a schedule: each rule's `rebuild: {schedule: …}` when a run falls due (I/O).

The scheduler asks at every round which runs are due (core/schedule.py `last_due`, in the
rule's time zone); a due run is claimed in the database (records/periodic.py), so several
schedulers run it once, and it rebuilds the rule's ref heads with fresh bases: a literal rule's
branch or tag, a regex rule's matching refs on the remote (git ls-remote). A schedule seen for
the first time, or changed, starts with its next run: nothing is rebuilt at start-up.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime

from flask import current_app

from core.errors import SecretUnavailableError
from core.plan import TRIGGER_SCHEDULE
from core.rebuild_policy import RebuildPolicy
from core.rebuilds import RebuildCause, RuleRef, scheduled_refs
from core.rules import BuildRule, RepositoryConfig
from core.schedule import last_due
from records.db import iso
from records.periodic import claim_run, ran
from records.rebuild_log import RebuildEvent
from service.extensions import rebuild_log, rules, store
from service.rebuilds import queue_rebuild
from vcs.gitcmd import GitError, credentials_env
from vcs.remote import ls_remote

logger = logging.getLogger(__name__)


def run_due_schedules(*, now: datetime) -> list[RebuildEvent]:
    """Run every schedule whose run is due and not yet claimed; their events."""
    engine = store().engine
    events = []
    for repo in rules().repositories:
        for rule in repo.rules:
            policy = repo.rebuild_policy(rule)
            due = last_due(policy.schedule, policy.zone, now) if policy.schedule else None
            if due is None:
                continue
            key = (repo.name, repo.provider, rule.index)
            if not claim_run(engine, key, expression=f"{policy.schedule} {policy.zone}",
                             due=due):
                continue
            event = run_schedule(repo, rule, policy, due)
            ran(engine, key, now=now)
            if event is not None:
                events.append(event)
    return events


def run_schedule(repo: RepositoryConfig, rule: BuildRule, policy: RebuildPolicy,
                 due: datetime) -> RebuildEvent | None:
    """Rebuild the rule's refs for the run due at `due` (None: that run was recorded before)."""
    origin = f"schedule:{repo.provider}/{repo.name}#{rule.index}@{iso(due)}"
    log = rebuild_log()
    event_id = log.open_event("schedule", origin, dedupe_key=origin)
    if event_id is None:
        return None
    try:
        refs, left_out, problem = _refs(repo, rule)
        decisions = [queue_rebuild(repo, target, RebuildCause(
            kind=TRIGGER_SCHEDULE, origin=origin, chain=(target,), event_id=event_id,
            schedule=policy.schedule, timezone=policy.zone, due=iso(due)),
            trigger=TRIGGER_SCHEDULE)
            for target in (RuleRef(repo.name, repo.provider, rule.index, ref) for ref in refs)]
    except BaseException:
        log.drop_event(event_id)
        raise
    reason = f"{repo.name} rule {rule.index + 1}: schedule {policy.schedule} ({policy.zone})"
    if problem:
        reason += f"; {problem}"
    if left_out:
        reason += f"; {len(left_out)} more matching refs not rebuilt (at most {len(refs)})"
    return log.close_event(event_id, decisions, reason=reason)


def _refs(repo: RepositoryConfig, rule: BuildRule) -> tuple[list[str], list[str], str | None]:
    """(refs to rebuild, matching refs left out, why there are none)."""
    if not rule.is_regex:
        refs, left_out = scheduled_refs(rule, [])
        return refs, left_out, None
    try:
        auth, _ = credentials_env(repo.git_auth, os.environ, url=repo.clone_url)
        remote = list(ls_remote(repo.clone_url, auth=auth,
                                timeout=int(current_app.config["LS_REMOTE_TIMEOUT"])))
    except (GitError, SecretUnavailableError) as exc:
        logger.warning("schedule of %s rule %d: git ls-remote failed: %s", repo.name,
                       rule.index + 1, exc)
        return [], [], f"git ls-remote failed: {exc}"
    refs, left_out = scheduled_refs(rule, remote)
    return refs, left_out, None if refs else f"no ref on the remote matches {rule.source}"
