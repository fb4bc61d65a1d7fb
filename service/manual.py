"""Build now: resolve a ref's current commit and queue the matching rules' builds."""

from __future__ import annotations

from flask import current_app

from core.events import PushEvent
from core.rules import RepositoryConfig, match
from records.builds import BuildRecord
from service.queueing import enqueue_all
from service.state import build_queue, rules, store
from vcs.gitcmd import GitError
from vcs.remote import RefNotFoundError, resolve_ref


class ManualBuildError(Exception):
    """A Build now request that cannot be done; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def find_repository(name: str, provider: str | None = None) -> RepositoryConfig:
    """The configured repository, or ManualBuildError 404 naming it."""
    ruleset = rules()
    repo = ruleset.find(provider, name) if provider else ruleset.by_name(name)
    if repo is None:
        raise ManualBuildError(404, f"repository {name!r} is not configured")
    return repo


def build_now(repo: RepositoryConfig, ref: str, *, rule_index: int | None = None,
              user: str = "") -> list[BuildRecord]:
    """Queue builds of `ref`'s current commit for the matching rules (or just `rule_index`)."""
    ref = ref.strip()
    if not ref or ref.startswith("-") or any(ord(c) < 32 for c in ref) or ".." in ref:
        raise ManualBuildError(422, f"{ref!r} is not a valid branch or tag name")
    timeout = current_app.config["LS_REMOTE_TIMEOUT"]
    try:
        full_ref, commit = resolve_ref(repo.clone_url, ref, timeout=timeout)
    except RefNotFoundError as exc:
        raise ManualBuildError(422, f"{repo.name}: {exc}") from None
    except GitError as exc:
        raise ManualBuildError(502, f"git ls-remote failed for {repo.name}: {exc}") from None
    event = PushEvent(provider=repo.provider, repository=repo.name, ref=full_ref, before=None,
                      after=commit, created=False, pusher=user)
    result = match(repo, event, manual=True)
    plans = [p for p in result.plans if rule_index is None or p.rule_index == rule_index]
    if not plans:
        if rule_index is not None and result.plans:
            raise ManualBuildError(422, f"rule {rule_index} does not match {full_ref}")
        raise ManualBuildError(422, f"no rule builds {full_ref}: {result.explanation()}")
    builds = store().create_builds(plans)
    enqueue_all(build_queue(), builds)
    return builds
