"""The two Docker Hub trigger URL shapes (HTTP only; service/triggers.py does the rest).

`POST /u/<owner>/<name>/trigger/<token>/` (the classic Hub's) and
`POST /api/build/v1/source/<source-id>/trigger/<token>/call/` (the new Hub's). No login and no
API token: the trigger token is the credential, and it can only trigger builds.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from core.triggers import MAX_BODY_BYTES
from service.triggers import TriggerCall, take_trigger
from service.webhooks import read_body

bp = Blueprint("triggers", __name__)


@bp.post("/u/<path:name>/trigger/<token>/")
def classic(name: str, token: str) -> tuple[Response, int]:
    """The classic Hub's trigger URL; <owner>/<name> is the forge's or the image's name."""
    return _take("classic", token, name=name)


@bp.post("/api/build/v1/source/<source>/trigger/<token>/call/")
def source(source: str, token: str) -> tuple[Response, int]:
    """The new Hub's trigger URL; <source-id> is shown on the repository's page."""
    return _take("source", token, source=source)


def _take(url_shape: str, token: str, *, name: str | None = None,
          source: str | None = None) -> tuple[Response, int]:
    """Read the bounded body (None when it is over the limit) and answer the call."""
    body: bytes | None = None
    if request.content_length is None or request.content_length <= MAX_BODY_BYTES:
        try:
            body = read_body(MAX_BODY_BYTES)
        except RequestEntityTooLarge:
            body = None
    answer = take_trigger(TriggerCall(
        url_shape=url_shape, token=token, body=body, client=request.remote_addr or "-",
        content_type=request.content_type or "", name=name, source=source))
    return jsonify(answer.body), answer.status
