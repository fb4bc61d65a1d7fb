"""POST /hooks/<forge>: the HTTP side of webhook intake (service/intake.py does the rest)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from core.forges import FORGES, get_forge
from service.intake import take_delivery

bp = Blueprint("webhooks", __name__)


@bp.post("/hooks/<forge>")
def receive(forge: str) -> tuple[Response, int]:
    """Turn one forge delivery into queued builds (202), or say why not."""
    adapter = get_forge(forge)
    if adapter is None:
        *others, last = FORGES
        return jsonify(error=f"unknown forge {forge!r}; use {', '.join(others)} or {last}"), 404
    limit = int(current_app.config["MAX_CONTENT_LENGTH"])
    try:
        body = read_body(limit)
    except RequestEntityTooLarge:
        return jsonify(error=f"body is larger than the {limit} byte limit"), 413
    answer = take_delivery(forge, adapter, dict(request.headers.items()), body)
    return jsonify(answer.body), answer.status


def read_body(limit: int) -> bytes:
    """The raw body; more than `limit` bytes is refused, also when it came chunked without a
    Content-Length (Werkzeug would silently cut such a body at the limit)."""
    if request.content_length is not None or not request.environ.get("wsgi.input_terminated"):
        return request.get_data(cache=True)
    body: bytes = request.environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge()
    return body
