"""Bitbucket Cloud webhook deliveries normalised into canonical events (no I/O).

`repo:push` becomes one PushEvent per entry of `push.changes` (a push can move several branches
and tags at once). Each change has `old`/`new` refs (null on create/delete) and created, closed
and forced flags; for an annotated tag `new.target` is still the commit. The payload lists at
most 5 commits per change and no files, so changed_files is always None.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.envelope import Envelope
from core.errors import PayloadError
from core.events import Ignored, ParseResult, PushEvent, RefKind, full_ref
from core.forges import common

PROVIDER = "bitbucket"
EVENT_HEADER = "X-Event-Key"
DELIVERY_HEADER = "X-Request-UUID"
PUSH_EVENT = "repo:push"
_KINDS = {"branch": RefKind.BRANCH, "tag": RefKind.TAG, "annotated_tag": RefKind.TAG}


def event_name(delivery: Envelope) -> str:
    """The X-Event-Key header, e.g. "repo:push"; "" when absent."""
    return delivery.header(EVENT_HEADER)


def delivery_id(delivery: Envelope) -> str:
    """The X-Request-UUID header; "" when absent."""
    return delivery.header(DELIVERY_HEADER)


def repository_name(delivery: Envelope) -> str | None:
    """`repository.full_name` ("workspace/slug"); None when a non-push payload names none."""
    return common.full_name(delivery.data, required=event_name(delivery) == PUSH_EVENT)


def parse(delivery: Envelope) -> ParseResult:
    """The canonical result of one Bitbucket Cloud delivery."""
    event = event_name(delivery)
    payload = delivery.data
    if event != PUSH_EVENT:
        try:
            repository = common.full_name(payload, required=False)
        except PayloadError:
            repository = None
        reason = f"unsupported event {event}" if event else f"missing {EVENT_HEADER} header"
        return Ignored(PROVIDER, event, reason, repository=repository)
    repository = common.required_full_name(payload)
    push = common.obj(payload.get("push"), "push")
    changes = push.get("changes")
    if not isinstance(changes, list):
        raise PayloadError("push.changes is not a list" if changes else "missing push.changes")
    if not changes:
        return Ignored(PROVIDER, event, "push lists no ref changes", repository=repository)
    actor = common.optional_obj(payload.get("actor"), "actor") or {}
    pusher = common.plain_text(
        actor.get("nickname"), actor.get("username"), actor.get("display_name")
    )
    return [
        _change_event(change, f"push.changes[{i}]", repository, pusher, delivery_id(delivery))
        for i, change in enumerate(changes)
    ]


def _change_event(
    value: object, where: str, repository: str, pusher: str, delivery: str
) -> PushEvent:
    """The PushEvent of one entry of push.changes."""
    change = common.obj(value, where)
    old = common.optional_obj(change.get("old"), f"{where}.old")
    new = common.optional_obj(change.get("new"), f"{where}.new")
    if new is not None:
        ref = _ref(new, f"{where}.new")
    elif old is not None:
        ref = _ref(old, f"{where}.old")
    else:
        raise PayloadError(f"{where} has neither old nor new")
    before = _target_hash(old, f"{where}.old")
    after = _target_hash(new, f"{where}.new")
    target = common.optional_obj(new.get("target"), f"{where}.new.target") if new else None
    return PushEvent(
        provider=PROVIDER,
        repository=repository,
        ref=ref,
        before=before,
        after=after,
        created=bool(common.flag(change, "created")) or before is None,
        deleted=bool(common.flag(change, "closed")) or after is None,
        forced=bool(common.flag(change, "forced")),
        head_commit_message=common.text(target.get("message")) if target else "",
        changed_files=None,
        pusher=pusher,
        delivery_id=delivery,
    )


def _ref(side: Mapping[str, Any], where: str) -> str:
    """The full ref name of an old/new side: its type (branch or tag) and name."""
    kind_name = side.get("type")
    kind = _KINDS.get(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        raise PayloadError(f"{where}.type is not branch or tag")
    return common.bounded(full_ref(kind, common.name(side.get("name"), f"{where}.name")),
                          f"{where}.name")


def _target_hash(side: Mapping[str, Any] | None, where: str) -> str | None:
    """The commit SHA an old/new side points at; None when the side is null."""
    if side is None:
        return None
    target = common.obj(side.get("target"), f"{where}.target")
    return common.sha(target.get("hash"), f"{where}.target.hash")
