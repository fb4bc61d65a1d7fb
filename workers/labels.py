"""OCI image labels for a build (pure, but kept beside the worker code that applies them)."""

from __future__ import annotations

from datetime import UTC, datetime

from core.plan import BuildPlan
from vcs.gitcmd import redact


def oci_labels(plan: BuildPlan, *, revision: str | None = None,
               now: datetime | None = None) -> dict[str, str]:
    """org.opencontainers.image.* labels plus the rule's own labels (which win on conflict)."""
    created = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    first_tag = plan.tags[0].rpartition(":")[2]
    labels = {
        "org.opencontainers.image.source": redact(plan.clone_url),
        "org.opencontainers.image.revision": revision or plan.commit,
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.version": first_tag,
    }
    labels.update(dict(plan.labels))
    return labels
