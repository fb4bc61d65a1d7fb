"""The actions users take: Build now, cancel and retry (shared by the API and the pages)."""

from __future__ import annotations

import os
from dataclasses import replace

from flask import current_app

from core.errors import SecretUnavailableError
from core.events import PushEvent, ref_problem
from core.matching import match
from core.plan import TRIGGER_MANUAL, TRIGGER_RETRY, BuildPlan
from core.rules import RepositoryConfig
from core.status import BuildStatus
from records.builds import BuildRecord
from records.tag_history import last_pushed
from service.extensions import build_queue, rules, store
from service.queueing import enqueue_all
from vcs.gitcmd import GitError, credentials_env
from vcs.remote import RefNotFoundError, resolve_ref


class ActionError(Exception):
    """An action that cannot be done; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class MovesTagsBackError(ActionError):
    """A Retry of an older commit than the tags hold: it needs a confirmation."""


def find_repository(name: str, provider: str | None = None) -> RepositoryConfig:
    """The configured repository, or ActionError 404 naming it."""
    ruleset = rules()
    repo = ruleset.find(provider, name) if provider else ruleset.by_name(name)
    if repo is None:
        raise ActionError(404, f"repository {name!r} is not configured")
    return repo


def build_now(repo: RepositoryConfig, ref: str, *, rule_index: int | None = None,
              user: str = "", trigger: str = TRIGGER_MANUAL) -> list[BuildRecord]:
    """Queue builds of `ref`'s current commit for the matching rules (or just `rule_index`);
    `trigger` says who asked (Build now, or a trigger URL)."""
    plans = plans_at_head(repo, ref, rule_index=rule_index, user=user, trigger=trigger)
    builds = store().create_builds(plans)
    enqueue_all(build_queue(), builds)
    return builds


def plans_at_head(repo: RepositoryConfig, ref: str, *, rule_index: int | None = None,
                  user: str = "", trigger: str = TRIGGER_MANUAL) -> list[BuildPlan]:
    """The plans of `ref`'s current commit (git ls-remote with the repository's git_auth) for
    the matching rules (or just `rule_index`); ActionError saying why there are none."""
    ref = ref.strip()
    if (problem := ref_problem(ref)) is not None:
        raise ActionError(422, f"{ref!r} is not a valid branch or tag name: {problem}")
    if rule_index is not None and all(rule.index != rule_index for rule in repo.rules):
        raise ActionError(422, f"{repo.name} has no rule {rule_index} (rules are numbered from "
                               f"0 to {len(repo.rules) - 1})")
    timeout = current_app.config["LS_REMOTE_TIMEOUT"]
    try:
        auth, _ = credentials_env(repo.git_auth, os.environ, url=repo.clone_url)
    except SecretUnavailableError as exc:
        raise ActionError(502, f"cannot read {repo.name}'s git credentials here: {exc}") from None
    try:
        full_ref, commit = resolve_ref(repo.clone_url, ref, timeout=timeout, auth=auth)
    except RefNotFoundError as exc:
        raise ActionError(422, f"{repo.name}: {exc}") from None
    except GitError as exc:
        raise ActionError(502, f"git ls-remote failed for {repo.name}: {exc}") from None
    event = PushEvent(provider=repo.provider, repository=repo.name, ref=full_ref, before=None,
                      after=commit, created=False, pusher=user)
    result = match(repo, event, manual=True)
    plans = [replace(p, trigger=trigger) for p in result.plans
             if rule_index is None or p.rule_index == rule_index]
    if not plans:
        if rule_index is not None and result.plans:
            raise ActionError(422, f"rule {rule_index} does not match {full_ref}")
        raise ActionError(422, f"no rule builds {full_ref}: {result.explanation()}")
    return plans


def _existing(build_id: str) -> BuildRecord:
    build = store().get_build(build_id)
    if build is None:
        raise ActionError(404, f"no build {build_id!r}")
    return build


def cancel(build_id: str, *, user: str) -> BuildRecord:
    """Cancel a queued build at once; a running one is stopped by its worker within seconds."""
    build = _existing(build_id)
    if build.status.is_terminal():
        raise ActionError(409, f"build {build_id} already ended ({build.status.value})")
    message = f"cancelled by {user}" if user else "cancelled"
    if not store().set_status(build_id, BuildStatus.CANCELLED, error=message):
        current = _existing(build_id)
        raise ActionError(409, f"build {build_id} already ended ({current.status.value})")
    store().append_log(build_id, f"\nBuild {message}.\n")
    build_queue().discard(build_id)
    return _existing(build_id)


def retry(build_id: str, *, user: str, force: bool = False) -> BuildRecord:
    """Queue a new build of the same commit and rule as a finished build.

    When the rule's tags for that ref have since moved to a later push, the retry would move
    them back: it is refused (MovesTagsBackError) unless `force` confirms it.
    """
    build = _existing(build_id)
    if not build.status.is_terminal():
        raise ActionError(409, f"build {build_id} is still {build.status.value}; "
                               "cancel it or wait for it to end")
    newer = last_pushed(store(), build.plan)
    moves_back = (newer is not None and newer.commit != build.commit
                  and newer.created_at > build.created_at)
    if moves_back and not force:
        assert newer is not None
        raise MovesTagsBackError(
            409, f"build {build_id} is of commit {build.commit[:7]}, but the tags of its rule "
                 f"for {build.ref} now hold the later push {newer.commit[:7]} (build "
                 f"{newer.id}); retrying would move {', '.join(_tag_names(build))} back. "
                 'Confirm to do it anyway (API: {"force": true}).')
    plan = replace(current_plan(build), trigger=TRIGGER_RETRY, move_tags_back=moves_back,
                   commit_message=build.plan.commit_message)
    (new,) = store().create_builds([plan])
    confirmed = " (confirmed: moves the tags back to this commit)" if moves_back else ""
    store().append_log(new.id, f"Retry of build {build_id} requested by {user or 'a user'}"
                               f"{confirmed}, planned from the rules in force now.\n")
    if plan.tags != build.tags or plan.clone_url != build.plan.clone_url:
        store().append_log(new.id, f"The rules changed since build {build_id}: this build "
                                   f"pushes {', '.join(plan.tags)}.\n")
    enqueue_all(build_queue(), [new])
    return new


def current_plan(build: BuildRecord) -> BuildPlan:
    """What the rules in force now say the build's rule does for its ref and commit, so a
    Retry never replays a removed repository's clone URL, image or credentials."""
    repo = rules().find(build.provider, build.repository)
    if repo is None:
        raise ActionError(409, f"{build.repository} is no longer configured for "
                               f"{build.provider}; there is nothing to retry")
    event = PushEvent(provider=repo.provider, repository=repo.name, ref=build.ref,
                      before=None, after=build.commit)
    result = match(repo, event, manual=True)
    plan = next((p for p in result.plans if p.rule_index == build.rule_index), None)
    if plan is None:
        why = next((o.reason for o in result.outcomes if o.rule.index == build.rule_index),
                   f"the repository has no rule {build.rule_index + 1} any more")
        raise ActionError(409, f"the rules in force no longer build {build.ref} with that "
                               f"rule: {why}")
    return plan


def _tag_names(build: BuildRecord) -> list[str]:
    return [reference.rpartition(":")[2] for reference in build.tags]
