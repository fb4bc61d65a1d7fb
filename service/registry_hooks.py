"""POST /hooks/registry: the registry's notifications of pushed tags (HTTP only).

Off (404) unless AUTOBUILD_REGISTRY_TOKEN is set; the registry sends it through its endpoint's
`headers` (`Authorization: Bearer <token>`), compared in constant time over bytes. The body is
bounded and must be the registry's envelope type; each tag push is then a base change
(service/rebuilds.py), recorded with what it rebuilt and why, also when it rebuilt nothing.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from core.errors import PayloadError
from core.registry_events import CONTENT_TYPE, MAX_BODY_BYTES, TagPush, parse_envelope
from service.rebuilds import change_seen, take_change
from service.webhooks import read_body

bp = Blueprint("registry_hooks", __name__)
ACCEPTED_TYPES = (CONTENT_TYPE, "application/json")


def _authorized(token: str) -> bool:
    """Whether the request carries `Authorization: Bearer <token>` (constant time, bytes)."""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    expected = token.encode("utf-8")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8", "surrogateescape"), expected)


@bp.post("/hooks/registry")
def receive() -> tuple[Response, int]:
    """Rebuild the rules whose latest image used a base the registry says was pushed (202)."""
    token = current_app.config.get("REGISTRY_TOKEN") or ""
    if not token:
        return jsonify(error="registry notifications are off: set AUTOBUILD_REGISTRY_TOKEN"), 404
    if not _authorized(token):
        return jsonify(error="missing or wrong bearer token (the registry endpoint's "
                             "Authorization header)"), 401
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return jsonify(error=f"body is larger than the {MAX_BODY_BYTES} byte limit"), 413
    kind = (request.mimetype or "").lower()
    if kind not in ACCEPTED_TYPES:
        return jsonify(error=f"content type must be {CONTENT_TYPE}, not {kind or 'none'}"), 415
    try:
        pushes, skipped = parse_envelope(read_body(MAX_BODY_BYTES))
    except RequestEntityTooLarge:
        return jsonify(error=f"body is larger than the {MAX_BODY_BYTES} byte limit"), 413
    except PayloadError as exc:
        return jsonify(error=exc.message), 400
    return jsonify(events=[_take(push) for push in pushes], skipped=skipped), 202


def _take(push: TagPush) -> dict[str, Any]:
    """One tag push as a base change: its event, or that it was handled before."""
    change, pusher = change_seen(push.reference, push.digest, source="notification")
    event = take_change(change, kind="notification", pusher_id=pusher,
                        dedupe_key=f"registry:{push.event_id}")
    if event is None:
        return {"registry_event": push.event_id, "reference": push.reference,
                "digest": push.digest, "duplicate": True, "build_ids": []}
    return {"registry_event": push.event_id, **event.to_dict()}
