"""What the status pages show of rebuilds: policies, bases, next runs, decisions (reads only).

The repository page shows each rule's `rebuild:` policy, the bases of its latest image with
what polling last found, the next scheduled run, and the recent rebuild decisions about the
repository (a detected cycle among them); the build page shows a build's bases, its cause,
and what its own pushes did to the rules built from its image.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.image_refs import parse_image
from core.rebuild_policy import RebuildPolicy, format_duration
from core.rules import BuildRule, RepositoryConfig
from core.schedule import next_run
from records.base_users import latest_images
from records.builds import BuildRecord
from records.periodic import BaseCheck, ScheduleState, base_checks_of, schedule_states
from service.extensions import rebuild_log, store

RECENT_EVENTS = 10


@dataclass(frozen=True)
class RuleRebuilds:
    """One rule's row in the repository page's rebuild table."""

    rule: BuildRule
    policy: RebuildPolicy
    bases: list[tuple[str, str | None, BaseCheck | None]]
    next_run: datetime | None
    last_run: ScheduleState | None

    def describe(self) -> str:
        """`on base changes (notifications; polled every 6h)`, or `off`."""
        if not self.policy.rebuilds_on_base_change:
            return "off for base changes"
        polled = self.policy.poll_interval
        how = f"registry notifications; polled every {format_duration(polled)}" if polled \
            else "registry notifications"
        return f"on base changes ({how})"


def repository_rebuilds(repo: RepositoryConfig, *, now: datetime | None = None
                        ) -> dict[str, Any]:
    """The repository page's rebuild context: `rebuild_rules` and `rebuild_events`."""
    now = now or datetime.now(UTC)
    keys = [(repo.name, repo.provider, rule.index) for rule in repo.rules]
    latest = latest_images(store(), keys)
    references = [parsed.canonical() for build in latest.values() for base, _ in build.bases
                  if (parsed := parse_image(base)) is not None]
    checks = base_checks_of(store().engine, sorted(set(references)))
    schedules = schedule_states(store().engine, keys)
    rows = []
    for rule, key in zip(repo.rules, keys, strict=True):
        policy = repo.rebuild_policy(rule)
        build = latest.get(key)
        bases = [(base, digest, checks.get(parsed.canonical()) if parsed else None)
                 for base, digest in (build.bases if build else ())
                 for parsed in (parse_image(base),)]
        upcoming = next_run(policy.schedule, policy.zone, now) if policy.schedule else None
        rows.append(RuleRebuilds(rule, policy, bases, upcoming, schedules.get(key)))
    events = rebuild_log().recent_events(limit=RECENT_EVENTS, repository=repo.name)
    return {"rebuild_rules": rows, "rebuild_events": events}


def build_rebuilds(build: BuildRecord) -> dict[str, Any]:
    """The build page's rebuild context: the events its own pushes caused."""
    return {"pushed_events": rebuild_log().pushed_by(build.id)}
