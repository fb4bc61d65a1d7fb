"""What a notification tells about one build transition, and its few-word description (no I/O).

`BuildFacts` is forge-neutral: the commit-status builders (core/notify/statuses.py) and the
webhook payloads (core/notify/webhooks.py) all read from it. `describe` says what happened in
a few words: "pushed latest, v1.2", "failed at step 3/7", "superseded by abc1234".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from core.status import BuildStatus

_STEP = re.compile(r"\bStep (\d+)/(\d+) :|\[(?:[^\]\s]+ )?(\d+)/(\d+)\]")
ELLIPSIS = "…"


@dataclass(frozen=True)
class BuildFacts:
    """One build as of one transition: the event's status and the build's outcome so far."""

    build_id: str
    repository: str
    provider: str
    ref: str
    commit: str
    status: BuildStatus
    tags: tuple[str, ...]
    at: datetime
    created_at: datetime
    image: str
    digest: str | None = None
    error: str | None = None
    superseded_by_commit: str | None = None
    build_url: str | None = None
    pusher: str = ""
    summary: str | None = None
    """Said instead of the description `describe` derives (a test notification's words)."""

    @property
    def short_ref(self) -> str:
        """refs/heads/main → main, refs/tags/v1 → v1."""
        for prefix in ("refs/heads/", "refs/tags/"):
            if self.ref.startswith(prefix):
                return self.ref[len(prefix):]
        return self.ref

    @property
    def tag_names(self) -> tuple[str, ...]:
        """The Docker tags only (`latest`, not `registry/repo:latest`)."""
        return tuple(reference.rpartition(":")[2] for reference in self.tags)


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + ELLIPSIS


def failing_step(error: str) -> str | None:
    """"3/7" when a build error names its step (classic "Step 3/7 :", BuildKit "[3/7]")."""
    found = _STEP.search(error)
    if found is None:
        return None
    number, total = (found.group(1), found.group(2)) if found.group(1) else found.group(3, 4)
    return f"{number}/{total}"


def _pushed(tags: tuple[str, ...], limit: int) -> str:
    """"pushed a, b", listing as many tags as fit and counting the rest."""
    for shown in range(len(tags), 0, -1):
        rest = len(tags) - shown
        text = "pushed " + ", ".join(tags[:shown]) + (f" and {rest} more" if rest else "")
        if len(text) <= limit:
            return text
    return shorten("pushed " + ", ".join(tags), limit)


def describe(facts: BuildFacts, limit: int = 140) -> str:
    """What happened, in a few words and at most `limit` characters."""
    status, error = facts.status, facts.error or ""
    if facts.summary is not None:
        text = facts.summary
    elif status is BuildStatus.QUEUED:
        text = "queued"
    elif status.is_running():
        text = "started"
    elif status is BuildStatus.SUCCESS:
        return _pushed(facts.tag_names, limit)
    elif status is BuildStatus.FAILED:
        step = failing_step(error)
        text = f"failed at step {step}" if step else f"failed: {error}" if error else "failed"
    elif status is BuildStatus.SUPERSEDED:
        newer = (facts.superseded_by_commit or "")[:7]
        text = f"superseded by {newer}" if newer else "superseded by a newer push"
    elif status is BuildStatus.TIMED_OUT:
        text = "timed out"
    elif status is BuildStatus.SKIPPED:
        text = f"skipped: {error}" if error else "skipped"
    else:
        text = error or status.value
    return shorten(text, limit)
