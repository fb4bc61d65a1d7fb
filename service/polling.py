"""Polling registries for base changes, for registries that send no notifications (I/O).

For each rule with `rebuild: {check_every: …}`, every base of its latest image that came from
a registry is checked with one manifest HEAD per distinct base per interval
(core/base_polling.py), with the pull_auth of a repository using it (read from this process's
environment); a digest other than the one a rule's latest image used is a base change
(service/rebuilds.py). The claim on each check (records/periodic.py) lets several schedulers
run: one of them checks.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

from core.base_polling import PollTarget, backoff_after, poll_targets
from core.credentials import registry_name, resolve_secret
from core.errors import SecretUnavailableError
from core.image_refs import parse_image
from core.rebuild_policy import format_duration
from core.rules import RuleSet
from records.base_users import latest_images
from records.periodic import base_checks_of, claim_check, finish_check
from records.rebuild_log import RebuildEvent
from service.extensions import rules, store
from service.rebuilds import change_seen, take_change
from service.registry_client import ManifestClient

logger = logging.getLogger(__name__)


def polled_bases(ruleset: RuleSet) -> tuple[dict[str, PollTarget], dict[str, set[str | None]]]:
    """(what to poll, the digests the latest images of its rules used, per base)."""
    keys = [(repo.name, repo.provider, rule.index) for repo in ruleset.repositories
            for rule in repo.rules]
    uses: list[tuple[str, str, int, str]] = []
    used: dict[str, set[str | None]] = {}
    for (name, provider, index), build in latest_images(store(), keys).items():
        repo = ruleset.find(provider, name)
        rule = next((r for r in repo.rules if r.index == index), None) if repo else None
        interval = repo.rebuild_policy(rule).poll_interval if repo and rule else None
        for base, digest in build.bases if interval is not None else ():
            parsed = parse_image(base)
            if parsed is None or parsed.pinned or digest is None:
                continue  # a pinned base never moves; a local-only one is in no registry
            uses.append((name, provider, int(interval or 0), parsed.canonical()))
            used.setdefault(parsed.canonical(), set()).add(digest)
    return poll_targets(uses), used


def poll_due(client: ManifestClient, *, now: datetime) -> list[RebuildEvent]:
    """Check every base that is due; the events of the changes found."""
    ruleset = rules()
    targets, used = polled_bases(ruleset)
    engine = store().engine
    events = []
    for target in targets.values():
        if not claim_check(engine, target.reference, now=now, interval=target.interval):
            continue
        answer = client.head(target.reference, login=_login(ruleset, target))
        if answer.digest is None:
            before = base_checks_of(engine, [target.reference]).get(target.reference)
            failures = (before.failures if before else 0) + 1
            wait = backoff_after(target.interval, failures, answer.retry_after)
            message = f"{answer.message}; backing off: next check in {format_duration(wait)}"
            logger.warning("polling %s: %s", target.reference, message)
            finish_check(engine, target.reference, now=now, digest=None,
                         outcome="rate_limited" if answer.rate_limited else "failed",
                         message=message, failures=failures,
                         next_check_at=now + timedelta(seconds=wait))
            continue
        changed = bool(used.get(target.reference, set()) - {answer.digest})
        finish_check(engine, target.reference, now=now, digest=answer.digest,
                     outcome="changed" if changed else "unchanged", message=None)
        if changed:
            change, pusher = change_seen(target.reference, answer.digest, source="poll")
            event = take_change(change, kind="poll", pusher_id=pusher, quiet=True)
            if event is not None:
                events.append(event)
    return events


def _login(ruleset: RuleSet, target: PollTarget) -> tuple[str, str] | None:
    """The pull_auth of a repository using the base, for its registry, if this process can
    read its password."""
    parsed = parse_image(target.reference)
    host = registry_name(parsed.host) if parsed else ""
    for name, provider in target.repositories:
        repo = ruleset.find(provider, name)
        for auth in repo.pull_auth if repo else ():
            if registry_name(auth.registry) != host:
                continue
            try:
                password = resolve_secret(auth.password, environ=os.environ,
                                          read_file=_read, what=f"pull_auth for {host}")
            except SecretUnavailableError as exc:
                logger.warning("polling %s without a login: %s", target.reference, exc)
                continue
            return auth.username, password
    return None


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()
