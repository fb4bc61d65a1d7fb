"""GitHub webhook deliveries normalised into canonical events (no I/O).

`push` becomes one PushEvent (deletions included, with deleted=True), `ping` a Ping; `create`,
`delete`, `pull_request` and every other event are Ignored. The body is JSON or, with
Content-Type application/x-www-form-urlencoded, a form whose `payload` field holds the JSON.

changed_files is None (unknown, so no path filtering) when the payload may not list every
changed file: a forced push, a created ref, a push with no commits listed, or one listing
MAX_LISTED_COMMITS or more commits; a deleted ref gives (). GitHub's webhook docs cap `commits`
at 2048 entries and its Events API at 20; we take the smaller as the conservative threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.envelope import Envelope, open_envelope
from core.errors import PayloadError
from core.events import Ignored, ParseResult, Ping, PushEvent, RefKind, full_ref
from core.forges import common

PROVIDER = "github"
EVENT_HEADER = "X-GitHub-Event"
DELIVERY_HEADER = "X-GitHub-Delivery"
MAX_LISTED_COMMITS = 20
"""A push listing this many commits or more may be truncated: its file list is not trusted."""

_REF_EVENTS = {"create", "delete"}
_REF_TYPES = {"branch": RefKind.BRANCH, "tag": RefKind.TAG}


def envelope(headers: Mapping[str, str], body: bytes) -> Envelope:
    """The delivery decoded once: a JSON body, or a form whose `payload` field is the JSON."""
    return open_envelope(headers, body, form_bodies=True)


def event_name(delivery: Envelope) -> str:
    """The X-GitHub-Event header, e.g. "push"; "" when absent."""
    return delivery.header(EVENT_HEADER)


def delivery_id(delivery: Envelope) -> str:
    """The X-GitHub-Delivery GUID (kept across redeliveries); "" when absent."""
    return delivery.header(DELIVERY_HEADER)


def repository_name(delivery: Envelope) -> str | None:
    """`repository.full_name`; None when the payload names no repository (organisation ping)."""
    return common.full_name(delivery.data, required=event_name(delivery) == "push")


def parse(delivery: Envelope) -> ParseResult:
    """The canonical result of one GitHub delivery."""
    event = event_name(delivery)
    payload = delivery.data
    if event == "push":
        return [push_event(payload, provider=PROVIDER, delivery=delivery_id(delivery))]
    repository = _best_effort_name(payload)
    if event == "ping":
        return Ping(PROVIDER, repository=repository)
    if event in _REF_EVENTS:
        reason = f"{event} events are ignored: pushes drive builds"
        return Ignored(PROVIDER, event, reason, repository=repository, refs=event_refs(payload))
    if event == "pull_request":
        return Ignored(PROVIDER, event, "pull requests are not built", repository=repository)
    if not event:
        return Ignored(PROVIDER, event, f"missing {EVENT_HEADER} header", repository=repository)
    return Ignored(PROVIDER, event, f"unsupported event {event}", repository=repository)


def push_event(
    payload: Mapping[str, Any],
    *,
    provider: str,
    delivery: str,
    max_listed: int = MAX_LISTED_COMMITS,
) -> PushEvent:
    """The PushEvent of a GitHub-shaped push payload (also Gitea's, which has no flags)."""
    repository = common.required_full_name(payload)
    ref = common.name(payload.get("ref"), "ref")
    before = common.sha(payload.get("before"), "before")
    after = common.sha(payload.get("after"), "after")
    created = bool(common.flag(payload, "created")) or before is None
    deleted = bool(common.flag(payload, "deleted")) or after is None
    forced = bool(common.flag(payload, "forced"))
    commits = payload.get("commits")
    head_commit = common.optional_obj(payload.get("head_commit"), "head_commit")
    message = common.text(head_commit.get("message")) if head_commit else ""
    pusher = common.optional_obj(payload.get("pusher"), "pusher") or {}
    head_id = common.sha(head_commit.get("id"), "head_commit.id") if head_commit else None
    tagged = head_id if ref.startswith("refs/tags/") and head_id != after and not deleted else None
    return PushEvent(
        provider=provider,
        repository=repository,
        ref=ref,
        before=before,
        after=None if deleted else after,
        commit=tagged,
        created=created,
        deleted=deleted,
        forced=forced,
        head_commit_message=message or common.message_of(commits, after),
        changed_files=_changed_files(
            commits,
            total=payload.get("total_commits"),
            max_listed=max_listed,
            created=created,
            deleted=deleted,
            forced=forced,
        ),
        pusher=common.plain_text(pusher.get("name"), pusher.get("login"), pusher.get("username")),
        delivery_id=delivery,
    )


def _changed_files(
    commits: object,
    *,
    total: object,
    max_listed: int,
    created: bool,
    deleted: bool,
    forced: bool,
) -> tuple[str, ...] | None:
    """The changed paths when the payload is known to list them all, else None."""
    if deleted:
        return ()
    if created or forced or not isinstance(commits, list) or not commits:
        return None
    if isinstance(total, int) and total > len(commits):  # Gitea's total_commits
        return None
    if len(commits) >= max_listed:
        return None
    return common.changed_files(commits)


def _best_effort_name(payload: Mapping[str, Any]) -> str | None:
    """The repository name of a delivery we do not act on, or None if it has no usable one."""
    try:
        return common.full_name(payload, required=False)
    except PayloadError:
        return None


def event_refs(payload: Mapping[str, Any]) -> tuple[str, ...]:
    """The full ref of a create/delete event (short name plus ref_type), when well-formed."""
    ref, ref_type = payload.get("ref"), payload.get("ref_type")
    kind = _REF_TYPES.get(ref_type) if isinstance(ref_type, str) else None
    if kind is None:
        return ()
    try:
        return (common.bounded(full_ref(kind, common.name(ref, "ref")), "ref"),)
    except PayloadError:
        return ()
