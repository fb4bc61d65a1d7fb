"""The one "bitbucket" endpoint: Cloud and Server deliveries told apart by X-Event-Key (no I/O).

`repo:push` is Bitbucket Cloud; `repo:refs_changed`, `diagnostics:ping`, `mirror:*` and `pr:*` are
Bitbucket Server / Data Center; every other key is Ignored. Both report provider "bitbucket".
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from core.envelope import Envelope, open_envelope
from core.errors import PayloadError
from core.events import Ignored, ParseResult
from core.forges import bitbucket_cloud, bitbucket_server, common

PROVIDER = "bitbucket"
EVENT_HEADER = "X-Event-Key"
_SERVER_KEYS = (bitbucket_server.PUSH_EVENT, bitbucket_server.PING_EVENT)
_SERVER_PREFIXES = ("mirror:", "pr:")


def envelope(headers: Mapping[str, str], body: bytes) -> Envelope:
    """The delivery decoded once (both Bitbucket flavours send JSON only)."""
    return open_envelope(headers, body, form_bodies=False)


def event_name(delivery: Envelope) -> str:
    """The X-Event-Key header, e.g. "repo:push" or "repo:refs_changed"; "" when absent."""
    return delivery.header(EVENT_HEADER)


def delivery_id(delivery: Envelope) -> str:
    """Cloud's X-Request-UUID, else Server's X-Request-Id; "" when absent."""
    return delivery.first_header(bitbucket_cloud.DELIVERY_HEADER,
                                 bitbucket_server.DELIVERY_HEADER)


def variant(event: str) -> ModuleType | None:
    """The module that parses X-Event-Key `event`, or None when neither builds on it."""
    if event == bitbucket_cloud.PUSH_EVENT:
        return bitbucket_cloud
    if event in _SERVER_KEYS or event.startswith(_SERVER_PREFIXES):
        return bitbucket_server
    return None


def repository_name(delivery: Envelope) -> str | None:
    """Cloud's "workspace/slug" or Server's "PROJECT_KEY/slug"; None when none is named."""
    module = variant(event_name(delivery))
    if module is None:
        return _any_name(delivery)
    name: str | None = module.repository_name(delivery)
    return name


def parse(delivery: Envelope) -> ParseResult:
    """The canonical result of one Bitbucket Cloud or Server delivery."""
    event = event_name(delivery)
    module = variant(event)
    if module is not None:
        result: ParseResult = module.parse(delivery)
        return result
    reason = f"unsupported event {event}" if event else f"missing {EVENT_HEADER} header"
    return Ignored(PROVIDER, event, reason, repository=_any_name(delivery))


def _cloud_name(payload: Mapping[str, Any]) -> str | None:
    return common.full_name(payload, required=False)


def _server_name(payload: Mapping[str, Any]) -> str | None:
    return bitbucket_server.project_slug(payload, required=False)


def _any_name(delivery: Envelope) -> str | None:
    """The repository name in either the Cloud or the Server shape, if the body has one."""
    for read in (_cloud_name, _server_name):
        try:
            found = read(delivery.data)
        except PayloadError:
            continue
        if found:
            return found
    return None
