"""Matching a push against a repository's rules, with a reason for every rule (no I/O).

`match` turns one PushEvent into one BuildPlan per rule that builds it; every rule that does not
gets a sentence saying why, which the webhook answer, the delivery log and `autobuild rules
explain` show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from core.events import ZERO_SHA, PushEvent, RefKind
from core.notify.targets import StatusTarget, status_context
from core.paths import build_paths, files_pass_filter
from core.plan import TRIGGER_MANUAL, TRIGGER_PUSH, BuildPlan, PathFilter
from core.rules import BuildRule, RepositoryConfig, compile_source
from core.tags import (
    is_valid_reference,
    missing_variables,
    render_template,
    sanitize_tag,
    split_templates,
    template_variables,
)

SKIP_MARKERS = ("[skip build]", "[build skip]", "[skip ci]")


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule decided for one ref, with one human sentence saying why."""

    rule: BuildRule
    matched: bool
    references: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class MatchResult:
    """The plans a push produces, each rule's outcome, and a skip reason for the whole push."""

    plans: tuple[BuildPlan, ...]
    outcomes: tuple[RuleOutcome, ...]
    skipped_reason: str | None = None

    def explanation(self) -> str:
        """Why this push builds what it builds, or why it builds nothing."""
        if self.skipped_reason is not None:
            return self.skipped_reason
        return "; ".join(outcome.reason for outcome in self.outcomes) or "no rules"


def skip_marker(message: str) -> str | None:
    """The skip marker (`[skip build]`, `[build skip]`, `[skip ci]`) in `message`, any case."""
    lowered = message.lower()
    return next((marker for marker in SKIP_MARKERS if marker in lowered), None)


def _kind_word(kind: RefKind) -> str:
    """The kind with its article, for sentences: "a branch" or "a tag"."""
    return "a branch" if kind is RefKind.BRANCH else "a tag"


def _why_empty(missing: list[str], variables: Mapping[str, str | None]) -> str:
    """Why templates rendered nothing: the placeholders without a value, or an empty group."""
    if not missing:
        return "a regex group was empty"
    needs = ", ".join(dict.fromkeys("{" + name + "}" for name in missing))
    verb = "needs" if needs.count("{") == 1 else "need"
    stable = any(name in ("major", "minor", "patch") for name in missing)
    what = "a non-prerelease semver ref" if stable else "a semver ref"
    return f"{needs} {verb} {what} such as v1.2.3; {variables.get('sourceref')} is not one"


def _render(
    rule: BuildRule, image: str, variables: Mapping[str, str | None]
) -> tuple[tuple[str, ...], str | None, str]:
    """(references, problem, note) for a matching rule; no references when `problem` is set."""
    tags: list[str] = []
    missing: list[str] = []
    empty: list[str] = []
    for template in split_templates(rule.tag):
        rendered = render_template(template, variables)
        if not rendered:
            missing.extend(missing_variables(template, variables))
            empty.append(template)
            continue
        tag = sanitize_tag(rendered)
        reference = f"{image}:{tag}"
        if not tag or not is_valid_reference(reference):
            problem = f"tag template {template!r} rendered {rendered!r}, not a valid Docker tag"
            return (), problem, ""
        if reference not in tags:
            tags.append(reference)
    why = _why_empty(missing, variables)
    if not tags:
        return (), f"every tag template rendered to nothing ({why})", ""
    note = f" ({', '.join(empty)} rendered nothing: {why})" if empty else ""
    return tuple(tags), None, note


def fixed_references(rule: BuildRule, image: str, references: tuple[str, ...]
                     ) -> tuple[str, ...]:
    """The references among `references` that come from templates without placeholders."""
    fixed = {f"{image}:{sanitize_tag(t)}" for t in split_templates(rule.tag) if "{" not in t}
    return tuple(r for r in references if r in fixed)


def _evaluate(
    repo: RepositoryConfig, rule: BuildRule, event: PushEvent, manual: bool
) -> tuple[RuleOutcome, BuildPlan | None]:
    """One rule's decision for `event`, and its plan when it builds."""
    assert event.kind is not None and event.after is not None
    prefix = f"rule {rule.index + 1} ({rule.describe()})"

    def no(reason: str) -> tuple[RuleOutcome, None]:
        """The outcome of a rule that does not build, for `reason`."""
        return RuleOutcome(rule, False, (), f"{prefix}: {reason}"), None

    name = event.name
    if rule.source_type is not event.kind:
        return no(f"source_type is {rule.source_type.value} but {event.ref} is "
                  f"{_kind_word(event.kind)}")
    groups: tuple[str | None, ...] = ()
    if rule.is_regex:
        found = compile_source(rule.pattern).search(name)
        if found is None:
            return no(f"{event.kind.value} {name} does not match {rule.source}")
        groups = found.groups()
    elif name != rule.source:
        return no(f"{event.kind.value} {name} is not {rule.source}")
    if not rule.autobuild and not manual:
        return no("autobuild is off; only Build now builds it")
    variables = template_variables(name, sha=event.target or "", groups=groups)
    references, problem, note = _render(rule, repo.image, variables)
    if problem is not None:
        return no(problem)
    path_filter: PathFilter | None = None
    if (rule.included_files or rule.ignored_files) and not manual:
        if event.created or event.before is None:
            note += " (new ref: path filters not applied)"
        elif event.changed_files is None:
            path_filter = PathFilter(rule.included_files, rule.ignored_files)
            note += " if the path filters pass (the worker checks the changed files)"
        else:
            passed, why = files_pass_filter(
                event.changed_files, included=rule.included_files, ignored=rule.ignored_files
            )
            if not passed:
                return no(why)
            note += f" ({why})"
    dockerfile, context = build_paths(rule.dockerfile, rule.context)
    env, secret_env = repo.rule_env(rule)
    plan = BuildPlan(
        repository=repo.name, provider=repo.provider, rule_index=rule.index, ref=event.ref,
        commit=event.target or "", clone_url=repo.clone_url, image=repo.image, tags=references,
        dockerfile=dockerfile, context=context, build_args=rule.build_args, target=rule.target,
        secret_build_args=rule.secret_build_args,
        labels=rule.labels, cache=rule.cache, pull=rule.pull, submodules=rule.submodules,
        hooks=repo.hooks, timeout=rule.timeout, before=event.before, path_filter=path_filter,
        commit_message=event.head_commit_message,
        trigger=TRIGGER_MANUAL if manual else TRIGGER_PUSH,
        registry_auth=repo.registry_auth, git_auth=repo.git_auth, forced=event.forced,
        fixed_tags=fixed_references(rule, repo.image, references),
        status=_status_target(repo, rule), notify=repo.notify, builder=rule.builder,
        platforms=rule.platforms, secrets=rule.secrets,
        memory_limit=rule.limits.memory, cpu_limit=rule.limits.millicpus,
        env=env, secret_env=secret_env, pull_auth=repo.pull_auth, lfs=rule.lfs,
        queue=repo.rule_queue(rule),
    )
    reason = f"{prefix}: matches: would push {', '.join(references)}{note}"
    return RuleOutcome(rule, True, references, reason), plan


def _status_target(repo: RepositoryConfig, rule: BuildRule) -> StatusTarget | None:
    """The repository's status target with the rule's context (numbered when two rules of
    the repository share a tag template, so they never overwrite each other's status)."""
    if repo.status is None:
        return None
    context = status_context(rule.tag)
    if sum(1 for other in repo.rules if other.tag == rule.tag) > 1:
        context += f" (rule {rule.index + 1})"
    return repo.status.with_context(context)


def match(repo: RepositoryConfig, event: PushEvent, *, manual: bool = False) -> MatchResult:
    """The builds `event` triggers in `repo`, one plan per matching rule, with reasons.

    `manual=True` is "Build now": skip markers, `autobuild: false` and path filters are ignored.
    """
    if event.deleted or event.after is None:
        return MatchResult((), (), f"{event.ref}: ref deleted; nothing to build")
    if re.fullmatch(r"[0-9a-f]{40}", event.target or "") is None:
        return MatchResult((), (), f"{event.ref}: commit {event.target!r} is not a 40-character "
                                   "lowercase hex SHA; nothing to build")
    if event.kind is None:
        return MatchResult((), (), f"{event.ref} is neither a branch (refs/heads/…) nor a tag "
                                   "(refs/tags/…); nothing to build")
    marker = None if manual else skip_marker(event.head_commit_message)
    if marker is not None:
        return MatchResult((), (), f"the commit message contains {marker}; build skipped")
    plans: list[BuildPlan] = []
    outcomes: list[RuleOutcome] = []
    for rule in repo.rules:
        outcome, plan = _evaluate(repo, rule, event, manual)
        outcomes.append(outcome)
        if plan is not None:
            plans.append(plan)
    return MatchResult(tuple(plans), tuple(outcomes))


def explain_ref(
    repo: RepositoryConfig, ref: str, *, sha: str = ZERO_SHA, manual: bool = False
) -> MatchResult:
    """What a push of `ref` (a full refs/heads/… or refs/tags/… name) would build in `repo`.

    The commit is a placeholder (`sha`); the push is treated as creating the ref, so path filters
    do not apply.
    """
    event = PushEvent(provider=repo.provider, repository=repo.name, ref=ref, before=None,
                      after=sha, created=True)
    return match(repo, event, manual=manual)
