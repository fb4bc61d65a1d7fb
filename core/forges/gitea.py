"""Gitea (and Forgejo, Gogs) webhook deliveries normalised into canonical events (no I/O).

Gitea sends GitHub-shaped push payloads without created/deleted/forced flags: creation and
deletion are inferred from zero SHAs, and a force push cannot be told apart from an update.
Gitea also sends X-GitHub-* headers, so its own X-Gitea-* headers are read first.

Gitea lists at most [ui] FEED_MAX_COMMIT_NUM commits (default 5). changed_files is None when
`total_commits` (newer Gitea) exceeds the listed commits, or, without it, when MAX_LISTED_COMMITS
or more are listed. An administrator who lowers that setting defeats the fallback.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.envelope import Envelope, open_envelope
from core.errors import PayloadError
from core.events import Ignored, ParseResult
from core.forges import common, github

PROVIDER = "gitea"
EVENT_HEADERS = ("X-Gitea-Event", "X-Forgejo-Event", "X-Gogs-Event", "X-GitHub-Event")
DELIVERY_HEADERS = (
    "X-Gitea-Delivery",
    "X-Forgejo-Delivery",
    "X-Gogs-Delivery",
    "X-GitHub-Delivery",
)
MAX_LISTED_COMMITS = 5
"""Gitea's default FEED_MAX_COMMIT_NUM: a list this long may be truncated."""


def envelope(headers: Mapping[str, str], body: bytes) -> Envelope:
    """The delivery decoded once: a JSON body, or a form whose `payload` field is the JSON."""
    return open_envelope(headers, body, form_bodies=True)


def event_name(delivery: Envelope) -> str:
    """X-Gitea-Event (else the Forgejo, Gogs or GitHub one), e.g. "push"; "" when absent."""
    return delivery.first_header(*EVENT_HEADERS)


def delivery_id(delivery: Envelope) -> str:
    """X-Gitea-Delivery (else the Forgejo, Gogs or GitHub one); "" when absent."""
    return delivery.first_header(*DELIVERY_HEADERS)


def repository_name(delivery: Envelope) -> str | None:
    """`repository.full_name`; None when a non-push payload names no repository."""
    return common.full_name(delivery.data, required=event_name(delivery) == "push")


def parse(delivery: Envelope) -> ParseResult:
    """The canonical result of one Gitea delivery."""
    event = event_name(delivery)
    payload = delivery.data
    if event == "push":
        return [
            github.push_event(payload, provider=PROVIDER, delivery=delivery_id(delivery),
                              max_listed=MAX_LISTED_COMMITS)
        ]
    try:
        repository = common.full_name(payload, required=False)
    except PayloadError:
        repository = None
    if event in ("create", "delete"):
        reason = f"{event} events are ignored: pushes drive builds"
        return Ignored(
            PROVIDER, event, reason, repository=repository, refs=github.event_refs(payload)
        )
    if not event:
        return Ignored(PROVIDER, event, "missing X-Gitea-Event header", repository=repository)
    return Ignored(PROVIDER, event, f"unsupported event {event}", repository=repository)
