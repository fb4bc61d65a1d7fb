"""GitLab webhook deliveries normalised into canonical events (no I/O).

`Push Hook` (object_kind push) and `Tag Push Hook` (object_kind tag_push) each become one
PushEvent; `System Hook` and every other event are Ignored. GitLab has no ping (its "Test" button
sends a push) and no forced flag. A deletion has `after` all zeros and `checkout_sha` null; a
null `checkout_sha` alone also means nothing can be checked out, so it counts as a deletion.
`after` is the ref's new value as sent: for an annotated tag that is the tag object, whose commit
`checkout_sha` becomes the event's `commit` (the one that is built and recorded).

GitLab lists at most 20 commits; changed_files is None when `total_commits_count` is missing or
larger than the list, and for created refs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.envelope import Envelope, open_envelope
from core.errors import PayloadError
from core.events import Ignored, ParseResult, PushEvent
from core.forges import common

PROVIDER = "gitlab"
EVENT_HEADER = "X-Gitlab-Event"
DELIVERY_HEADERS = ("Idempotency-Key", "X-Gitlab-Event-UUID", "X-Gitlab-Webhook-UUID")
"""Idempotency-Key stays the same when GitLab retries a delivery (GitLab 17.4+);
X-Gitlab-Event-UUID changes with every attempt, so it only stands in on older GitLab."""
PUSH_HOOKS = {"Push Hook": "push", "Tag Push Hook": "tag_push"}
"""X-Gitlab-Event values we build on, with the object_kind each carries."""


def envelope(headers: Mapping[str, str], body: bytes) -> Envelope:
    """The delivery decoded once (GitLab sends JSON only)."""
    return open_envelope(headers, body, form_bodies=False)


def event_name(delivery: Envelope) -> str:
    """The X-Gitlab-Event header, e.g. "Push Hook"; "" when absent."""
    return delivery.header(EVENT_HEADER)


def delivery_id(delivery: Envelope) -> str:
    """Idempotency-Key, else X-Gitlab-Event-UUID, else X-Gitlab-Webhook-UUID; "" when absent."""
    return delivery.first_header(*DELIVERY_HEADERS)


def repository_name(delivery: Envelope) -> str | None:
    """`project.path_with_namespace`; None when a non-push payload has no project."""
    return _project_name(delivery.data, required=event_name(delivery) in PUSH_HOOKS)


def _project_name(payload: Mapping[str, Any], *, required: bool) -> str | None:
    """`project.path_with_namespace`, None when there is no project and none is required."""
    project = payload.get("project")
    if project is None and not required:
        return None
    where = "project.path_with_namespace"
    return common.name(common.obj(project, "project").get("path_with_namespace"), where)


def parse(delivery: Envelope) -> ParseResult:
    """The canonical result of one GitLab delivery."""
    event = event_name(delivery)
    payload = delivery.data
    if event in PUSH_HOOKS:
        kind = payload.get("object_kind")
        if kind != PUSH_HOOKS[event]:
            raise PayloadError(f"object_kind {kind!r} does not match {EVENT_HEADER} {event!r}")
        return [_push_event(payload, delivery_id(delivery))]
    try:
        repository = _project_name(payload, required=False)
    except PayloadError:
        repository = None
    if event == "System Hook":
        reason = "system hooks are not built: add a project webhook"
        return Ignored(PROVIDER, event, reason, repository=repository)
    if not event:
        return Ignored(PROVIDER, event, f"missing {EVENT_HEADER} header", repository=repository)
    return Ignored(PROVIDER, event, f"unsupported event {event}", repository=repository)


def _push_event(payload: Mapping[str, Any], delivery: str) -> PushEvent:
    """The PushEvent of a push or tag_push payload."""
    project = common.obj(payload.get("project"), "project")
    repository = common.name(project.get("path_with_namespace"), "project.path_with_namespace")
    ref = common.name(payload.get("ref"), "ref")
    before = common.sha(payload.get("before"), "before")
    after = common.sha(payload.get("after"), "after")
    checkout = payload.get("checkout_sha", after)
    checkout_sha = None if checkout is None else common.sha(checkout, "checkout_sha")
    deleted = after is None or checkout_sha is None
    created = before is None
    commits = payload.get("commits")
    message = common.message_of(commits, checkout_sha) or common.message_of(commits, after)
    return PushEvent(
        provider=PROVIDER,
        repository=repository,
        ref=ref,
        before=before,
        after=None if deleted else after,
        commit=None if deleted or checkout_sha == after else checkout_sha,
        created=created,
        deleted=deleted,
        forced=False,
        head_commit_message=message or common.text(payload.get("message")),
        changed_files=_changed_files(payload, created=created, deleted=deleted),
        pusher=common.plain_text(payload.get("user_username"), payload.get("user_name")),
        delivery_id=delivery,
    )


def _changed_files(
    payload: Mapping[str, Any], *, created: bool, deleted: bool
) -> tuple[str, ...] | None:
    """The changed paths when the payload lists every pushed commit, else None."""
    if deleted:
        return ()
    commits, total = payload.get("commits"), payload.get("total_commits_count")
    if created or not isinstance(commits, list) or not isinstance(total, int):
        return None
    if isinstance(total, bool) or total > len(commits) or not commits:
        return None
    return common.changed_files(commits)
