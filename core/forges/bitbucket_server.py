"""Bitbucket Server / Data Center webhook deliveries normalised into canonical events (no I/O).

`repo:refs_changed` becomes one PushEvent per entry of `changes` (ref.id is the full ref,
fromHash/toHash are all zeros on create/delete, type is ADD, UPDATE or DELETE). There is no forced
flag and no file list, so forced is False and changed_files None. `diagnostics:ping` (the "Test
connection" button, body {"test": true}) is a Ping; `mirror:*`, `pr:*` and others are Ignored.
The repository is named "PROJECT_KEY/repo-slug", spelled as in the payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.envelope import Envelope
from core.errors import PayloadError
from core.events import Ignored, ParseResult, Ping, PushEvent
from core.forges import common

PROVIDER = "bitbucket"
EVENT_HEADER = "X-Event-Key"
DELIVERY_HEADER = "X-Request-Id"
PUSH_EVENT = "repo:refs_changed"
PING_EVENT = "diagnostics:ping"
_CHANGE_TYPES = ("ADD", "UPDATE", "DELETE")


def event_name(delivery: Envelope) -> str:
    """The X-Event-Key header, e.g. "repo:refs_changed"; "" when absent."""
    return delivery.header(EVENT_HEADER)


def delivery_id(delivery: Envelope) -> str:
    """The X-Request-Id header; "" when absent."""
    return delivery.header(DELIVERY_HEADER)


def repository_name(delivery: Envelope) -> str | None:
    """The name "PROJECT_KEY/slug"; None when a non-push payload (such as the ping) names none."""
    return project_slug(delivery.data, required=event_name(delivery) == PUSH_EVENT)


def project_slug(payload: Mapping[str, Any], *, required: bool = True) -> str | None:
    """"PROJECT_KEY/slug" of `repository`; None when absent and not required."""
    if payload.get("repository") is None and not required:
        return None
    return _project_slug(payload)


def _project_slug(payload: Mapping[str, Any]) -> str:
    """The name "PROJECT_KEY/slug" of `repository`, or PayloadError naming what is missing."""
    repository = common.obj(payload.get("repository"), "repository")
    project = common.obj(repository.get("project"), "repository.project")
    key = common.name(project.get("key"), "repository.project.key")
    return f"{key}/{common.name(repository.get('slug'), 'repository.slug')}"


def parse(delivery: Envelope) -> ParseResult:
    """The canonical result of one Bitbucket Server delivery."""
    event = event_name(delivery)
    payload = delivery.data
    if event != PUSH_EVENT:
        try:
            repository = project_slug(payload, required=False)
        except PayloadError:
            repository = None
        if event == PING_EVENT:
            return Ping(PROVIDER, repository=repository)
        reason = f"unsupported event {event}" if event else f"missing {EVENT_HEADER} header"
        return Ignored(PROVIDER, event, reason, repository=repository)
    repository = _project_slug(payload)
    changes = payload.get("changes")
    if not isinstance(changes, list):
        raise PayloadError("changes is not a list" if changes else "missing changes")
    if not changes:
        return Ignored(PROVIDER, event, "push lists no ref changes", repository=repository)
    actor = common.optional_obj(payload.get("actor"), "actor") or {}
    pusher = common.plain_text(actor.get("slug"), actor.get("name"), actor.get("displayName"))
    to_commit = common.optional_obj(payload.get("toCommit"), "toCommit") or {}
    single = len(changes) == 1
    context: dict[str, Any] = {
        "provider": PROVIDER,
        "repository": repository,
        "pusher": pusher,
        "delivery_id": delivery_id(delivery),
    }
    return [
        _change_event(change, f"changes[{i}]", to_commit if single else {}, context)
        for i, change in enumerate(changes)
    ]


def _change_event(
    value: object, where: str, to_commit: Mapping[str, Any], context: Mapping[str, Any]
) -> PushEvent:
    """The PushEvent of one entry of `changes`; `to_commit` is its (peeled) commit, or {}."""
    change = common.obj(value, where)
    ref_obj = common.optional_obj(change.get("ref"), f"{where}.ref") or {}
    ref = common.name(ref_obj.get("id", change.get("refId")), f"{where}.ref.id")
    before = common.sha(change.get("fromHash"), f"{where}.fromHash")
    after = common.sha(change.get("toHash"), f"{where}.toHash")
    kind = change.get("type")
    if kind not in _CHANGE_TYPES:
        raise PayloadError(f"{where}.type is not one of {', '.join(_CHANGE_TYPES)}")
    deleted = kind == "DELETE" or after is None
    return PushEvent(
        ref=ref,
        before=before,
        after=None if deleted else after,
        created=kind == "ADD" or before is None,
        deleted=deleted,
        forced=False,
        head_commit_message="" if deleted else common.text(to_commit.get("message")),
        changed_files=None,
        **context,
    )
