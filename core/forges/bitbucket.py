"""The one "bitbucket" endpoint: Cloud and Server deliveries told apart by X-Event-Key (no I/O).

`repo:push` is Bitbucket Cloud; `repo:refs_changed`, `diagnostics:ping`, `mirror:*` and `pr:*` are
Bitbucket Server / Data Center; every other key is Ignored. Both report provider "bitbucket".
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType

from core.errors import PayloadError
from core.events import Ignored, ParseResult
from core.forges import bitbucket_cloud, bitbucket_server, common

PROVIDER = "bitbucket"
EVENT_HEADER = "X-Event-Key"
_SERVER_KEYS = (bitbucket_server.PUSH_EVENT, bitbucket_server.PING_EVENT)
_SERVER_PREFIXES = ("mirror:", "pr:")


def event_name(headers: Mapping[str, str]) -> str:
    """The X-Event-Key header, e.g. "repo:push" or "repo:refs_changed"; "" when absent."""
    return common.header(headers, EVENT_HEADER)


def delivery_id(headers: Mapping[str, str]) -> str:
    """Cloud's X-Request-UUID, else Server's X-Request-Id; "" when absent."""
    return common.first_header(
        headers, bitbucket_cloud.DELIVERY_HEADER, bitbucket_server.DELIVERY_HEADER
    )


def variant(event: str) -> ModuleType | None:
    """The module that parses X-Event-Key `event`, or None when neither builds on it."""
    if event == bitbucket_cloud.PUSH_EVENT:
        return bitbucket_cloud
    if event in _SERVER_KEYS or event.startswith(_SERVER_PREFIXES):
        return bitbucket_server
    return None


def repository_name(headers: Mapping[str, str], body: bytes) -> str | None:
    """Cloud's "workspace/slug" or Server's "PROJECT_KEY/slug"; None when none is named."""
    module = variant(event_name(headers))
    if module is bitbucket_cloud:
        return bitbucket_cloud.repository_name(headers, body)
    if module is bitbucket_server:
        return bitbucket_server.repository_name(headers, body)
    return _any_name(body)


def parse(headers: Mapping[str, str], body: bytes) -> ParseResult:
    """The canonical result of one Bitbucket Cloud or Server delivery."""
    event = event_name(headers)
    module = variant(event)
    if module is bitbucket_cloud:
        return bitbucket_cloud.parse(headers, body)
    if module is bitbucket_server:
        return bitbucket_server.parse(headers, body)
    repository = _any_name(body)
    reason = f"unsupported event {event}" if event else f"missing {EVENT_HEADER} header"
    return Ignored(PROVIDER, event, reason, repository=repository)


def _any_name(body: bytes) -> str | None:
    """The repository name in either the Cloud or the Server shape, if the body has one."""
    common.load_json(body)
    for reader in (bitbucket_cloud.repository_name, bitbucket_server.repository_name):
        try:
            found = reader({}, body)
        except PayloadError:
            continue
        if found:
            return found
    return None
