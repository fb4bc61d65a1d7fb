"""The CNCF distribution registry's notification envelopes: which tags were pushed (no I/O).

An envelope (`application/vnd.docker.distribution.events.v1+json`) is `{"events": [...]}`;
each event has `id`, `action` and a `target` with `repository`, `tag`, `digest` and
`mediaType`, and a `request` whose `host` is the registry's name as the pusher reached it.
Only tag pushes of manifests matter here; pulls, blob pushes and pushes by digest are skipped.
Everything a sender controls is bounded: a malformed envelope or field is a PayloadError
(400) naming it, and nothing of it is used.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from core.errors import PayloadError
from core.tags import is_valid_reference, is_valid_tag

CONTENT_TYPE = "application/vnd.docker.distribution.events.v1+json"
MAX_BODY_BYTES = 1024 * 1024
MAX_EVENTS = 200
MAX_ID_LENGTH = 128
MAX_FIELD_LENGTH = 255
_ID = re.compile(r"[A-Za-z0-9._:-]+", re.ASCII)
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}", re.ASCII)
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_PATH = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*", re.ASCII)
_HOST = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]{1,5})?|\[[0-9A-Fa-f:]+\](?::[0-9]{1,5})?",
                   re.ASCII)
MANIFEST_TYPES = frozenset({
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
})


@dataclass(frozen=True)
class TagPush:
    """A manifest pushed under a tag: `reference` now points at `digest`."""

    event_id: str
    host: str
    repository: str
    tag: str
    digest: str

    @property
    def reference(self) -> str:
        """`host/repository:tag`."""
        return f"{self.host}/{self.repository}:{self.tag}"


def parse_envelope(body: bytes) -> tuple[list[TagPush], int]:
    """(the tag pushes of an envelope, how many other events it held)."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadError(f"the envelope is larger than {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PayloadError("the body is not JSON (a registry notification envelope)") from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise PayloadError('the envelope must be a JSON object with an "events" list')
    events = data["events"]
    if len(events) > MAX_EVENTS:
        raise PayloadError(f"the envelope holds {len(events)} events; at most {MAX_EVENTS}")
    pushes: list[TagPush] = []
    for index, event in enumerate(events):
        push = _tag_push(event, f"events[{index}]")
        if push is not None:
            pushes.append(push)
    return pushes, len(events) - len(pushes)


def _text(mapping: dict[str, Any], key: str, where: str, *, required: bool = False,
          limit: int = MAX_FIELD_LENGTH) -> str | None:
    """A string field of at most `limit` printable characters (None when absent)."""
    value = mapping.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > limit or not value.isprintable():
        raise PayloadError(f"{where}.{key} must be a non-empty string of at most {limit} "
                           "printable characters")
    return value


def _object(mapping: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = mapping.get(key, {})
    if not isinstance(value, dict):
        raise PayloadError(f"{where}.{key} must be an object")
    return value


def _tag_push(event: Any, where: str) -> TagPush | None:
    """The tag push an event tells of; None for every other kind of event."""
    if not isinstance(event, dict):
        raise PayloadError(f"{where} must be an object")
    event_id = _text(event, "id", where, required=True, limit=MAX_ID_LENGTH)
    if event_id is None or not _ID.fullmatch(event_id):
        raise PayloadError(f"{where}.id must be letters, digits and . _ : -")
    action = _text(event, "action", where, required=True, limit=32)
    target = _object(event, "target", where)
    request = _object(event, "request", where)
    media_type = _text(target, "mediaType", f"{where}.target")
    tag = _text(target, "tag", f"{where}.target", limit=128)
    if action != "push" or tag is None or media_type not in MANIFEST_TYPES:
        return None
    repository = _text(target, "repository", f"{where}.target", required=True)
    digest = _text(target, "digest", f"{where}.target", required=True, limit=140)
    host = _text(request, "host", f"{where}.request") or _url_host(target, where)
    if not is_valid_tag(tag):
        raise PayloadError(f"{where}.target.tag is not a valid tag")
    if repository is None or not _PATH.fullmatch(repository) or digest is None:
        raise PayloadError(f"{where}.target.repository is not a valid repository name")
    if not _DIGEST.fullmatch(digest):
        raise PayloadError(f"{where}.target.digest must be sha256:<64 hex digits>")
    if host is None or not _HOST.fullmatch(host) or not is_valid_reference(
            f"{host.lower()}/{repository}:{tag}"):
        raise PayloadError(f"{where}.request.host must name the registry (host[:port])")
    return TagPush(event_id=event_id, host=host.lower(), repository=repository, tag=tag,
                   digest=digest)


def _url_host(target: dict[str, Any], where: str) -> str | None:
    """The host of `target.url`, for registries that send no `request.host`."""
    url = _text(target, "url", f"{where}.target", limit=2048)
    return urlsplit(url).netloc or None if url else None
