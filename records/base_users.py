"""Which rules' latest images use a base image, and which build pushed an image (database reads).

A rule's latest successful build says what its image is made of: its `bases`, with the
digests it used (a retag's are those of the build whose image it pushed again). A base change
rebuilds the rules whose latest image used an older digest of that base; the build that pushed
the changed image, when it is ours, places the change in its cascade (core/rebuilds.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace

from sqlalchemy import select

from core.image_refs import canonical
from core.plan import BuildPlan
from core.rebuilds import BaseUser, RuleRef
from core.status import BuildStatus
from records.builds import BuildRecord, BuildStore, build_from_row, same_rule
from records.queries import RuleKey, latest_per_rule
from records.schema import builds
from records.tag_history import IN_PROGRESS

PUSHER_CANDIDATES = 20
PUSHING_OR_DONE = [BuildStatus.PUSHING.value, BuildStatus.SUCCESS.value]


def latest_images(store: BuildStore, rules: Iterable[RuleKey]) -> dict[RuleKey, BuildRecord]:
    """Each rule's latest successful build, its bases filled in from the build it reused."""
    latest = latest_per_rule(store.engine, rules, status=BuildStatus.SUCCESS)
    reused = {b.reused_from for b in latest.values() if b.reused_from and not b.bases}
    sources = {b.id: b for b in store.get_builds(sorted(r for r in reused if r))}
    for key, build in latest.items():
        source = sources.get(build.reused_from or "")
        if source is not None:
            latest[key] = replace(build, bases=source.bases)
    return latest


def base_users(store: BuildStore, rules: Iterable[RuleKey], reference: str) -> list[BaseUser]:
    """The rules whose latest image used `reference` as a base, with the digest it used."""
    wanted = canonical(reference)
    users = []
    for (repository, provider, rule_index), build in sorted(latest_images(store, rules).items()):
        for base, digest in build.bases:
            if canonical(base) == wanted:
                users.append(BaseUser(RuleRef(repository, provider, rule_index, build.ref),
                                      build.id, digest))
                break
    return users


def pushed_by(store: BuildStore, repositories: Sequence[tuple[str, str]], reference: str,
              digest: str) -> BuildRecord | None:
    """Our build that pushed `reference` as `digest`: one pushing it now, or a successful one
    that recorded that digest; `repositories` are the (name, provider)s whose image it is."""
    if not repositories:
        return None
    pattern = "%" + json.dumps(reference).replace("\\", "\\\\").replace("%", "\\%").replace(
        "_", "\\_") + "%"
    found: list[BuildRecord] = []
    for name, provider in repositories:
        query = (select(builds)
                 .where(builds.c.repository == name, builds.c.provider == provider,
                        builds.c.status.in_(PUSHING_OR_DONE),
                        builds.c.tags.like(pattern, escape="\\"))
                 .order_by(builds.c.created_at.desc(), builds.c.id.desc())
                 .limit(PUSHER_CANDIDATES))
        with store.engine.connect() as conn:
            found += [build_from_row(r) for r in conn.execute(query).mappings().all()]
    found.sort(key=lambda b: (b.created_at, b.id), reverse=True)
    return next((b for b in found if reference in b.tags and (
        b.digest == digest or b.status is BuildStatus.PUSHING)), None)


def in_progress(store: BuildStore, plan: BuildPlan) -> BuildRecord | None:
    """A build of the plan's rule, ref and commit that is queued or running."""
    query = (select(builds)
             .where(*same_rule(plan), builds.c.ref == plan.ref,
                    builds.c.commit_sha == plan.commit, builds.c.status.in_(IN_PROGRESS))
             .order_by(builds.c.created_at.desc()).limit(1))
    with store.engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return build_from_row(row) if row else None
