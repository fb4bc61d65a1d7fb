"""POST /hooks/<forge>: verify, parse, match, record, enqueue, answer — never build inline."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from core.errors import HookError, SignatureError
from core.events import Ignored, Ping, PushEvent
from core.forges import get_forge
from core.matching import match
from core.plan import BuildPlan
from core.rules import RepositoryConfig
from core.signatures import verify_signature
from records.coordination import find_same_commit
from service.queueing import enqueue_all
from service.state import build_queue, delivery_log, rules, store

bp = Blueprint("webhooks", __name__)
logger = logging.getLogger(__name__)


class Delivery:
    """What we know about one incoming delivery, for the delivery log and the answer."""

    def __init__(self, forge: str, event: str, delivery_id: str) -> None:
        self.forge = forge
        self.event = event
        self.delivery_id = delivery_id
        self.repository: str | None = None
        self.refs: list[str] = []

    def answer(self, status: int, outcome: str, reason: str | None, *,
               accepted: bool = False, plans: tuple[BuildPlan, ...] = (),
               body: dict[str, Any] | None = None) -> Response:
        """Record this delivery (and its builds, atomically), enqueue them, and answer."""
        recorded = delivery_log().record_delivery(
            forge=self.forge, delivery_id=self.delivery_id, event=self.event,
            repository=self.repository, refs=self.refs, outcome=outcome, reason=reason,
            status_code=status, plans=plans, accepted=accepted,
        )
        if recorded is None:
            return self.duplicate()
        _, builds = recorded
        enqueue_all(build_queue(), builds)
        payload = dict(body or {})
        if plans or outcome in ("queued", "ignored"):
            payload["builds"] = [b.to_dict() for b in builds]
        if outcome == "ignored":
            payload["ignored"] = reason
        elif outcome == "rejected":
            payload["error"] = reason
        response = jsonify(payload)
        response.status_code = status
        return response

    def duplicate(self) -> Response:
        """The answer to a redelivery: the original builds, nothing queued again."""
        original = delivery_log().find_delivery(self.forge, self.delivery_id)
        builds = delivery_log().builds.get_builds(original.build_ids) if original else []
        return jsonify(duplicate=True, message=f"delivery {self.delivery_id} was already "
                       "received; nothing was queued again",
                       builds=[b.to_dict() for b in builds])


@bp.post("/hooks/<forge>")
def receive(forge: str) -> Response | tuple[Response, int]:
    """Turn one forge delivery into queued builds (202), or say why not."""
    adapter = get_forge(forge)
    if adapter is None:
        known = "github, gitlab, gitea or bitbucket"
        return jsonify(error=f"unknown forge {forge!r}; use {known}"), 404
    limit = int(current_app.config["MAX_CONTENT_LENGTH"])
    try:
        body = _read_body(limit)
    except RequestEntityTooLarge:
        return jsonify(error=f"body is larger than the {limit} byte limit"), 413
    headers = dict(request.headers.items())
    event = adapter.event_name(headers) or "(none)"
    delivery = Delivery(forge, event, adapter.delivery_id(headers))
    try:
        delivery.repository = adapter.repository_name(headers, body)
        if delivery.repository is None:
            return _without_repository(delivery, adapter.parse(headers, body))
        repo = rules().find(forge, delivery.repository)
        if repo is None:
            reason = f"repository {delivery.repository!r} is not configured for {forge}"
            return delivery.answer(404, "rejected", reason)
        if repo.secrets or not repo.insecure_no_secret:
            verify_signature(forge, body, headers=headers, secrets=repo.secrets)
        if delivery.delivery_id and delivery_log().find_delivery(forge, delivery.delivery_id):
            return delivery.duplicate()
        return _accepted(delivery, repo, adapter.parse(headers, body))
    except SignatureError as exc:
        return delivery.answer(401, "rejected", f"signature check failed: {exc.message}")
    except HookError as exc:
        return delivery.answer(exc.status, "rejected", exc.message)


def _read_body(limit: int) -> bytes:
    """The raw body; more than `limit` bytes is refused, also when it came chunked without a
    Content-Length (Werkzeug would silently cut such a body at the limit)."""
    if request.content_length is not None or not request.environ.get("wsgi.input_terminated"):
        return request.get_data(cache=True)
    body: bytes = request.environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge()
    return body


def _without_repository(delivery: Delivery, parsed: object) -> Response | tuple[Response, int]:
    if isinstance(parsed, Ping):
        return jsonify(message=f"pong: {parsed.message}"), 200
    if isinstance(parsed, Ignored):
        return jsonify(builds=[], ignored=parsed.reason), 202
    return jsonify(error="the payload names no repository"), 400


def _accepted(delivery: Delivery, repo: RepositoryConfig, parsed: object) -> Response:
    if isinstance(parsed, Ping):
        return delivery.answer(200, "ping", parsed.message, accepted=True,
                               body={"message": f"pong: {parsed.message}"})
    if isinstance(parsed, Ignored):
        delivery.refs = list(parsed.refs)
        return delivery.answer(202, "ignored", parsed.reason, accepted=True)
    events: list[PushEvent] = list(parsed)  # type: ignore[call-overload]
    delivery.refs = [e.ref for e in events]
    plans: list[BuildPlan] = []
    reasons: list[str] = []
    for event in events:
        result = match(repo, event)
        prefix = f"{event.ref}: " if len(events) > 1 else ""
        if not result.plans:
            reasons.append(prefix + result.explanation())
        for plan in result.plans:
            earlier = find_same_commit(store(), plan)
            if earlier is None:
                plans.append(plan)
            else:
                reasons.append(f"{prefix}rule {plan.rule_index + 1}: commit {plan.short_commit} "
                               f"was already built by build {earlier.id} ({earlier.status.value})")
    if not plans:
        return delivery.answer(202, "ignored", "; ".join(reasons) or "no ref changed",
                               accepted=True)
    return delivery.answer(202, "queued", "; ".join(reasons) or None, accepted=True,
                           plans=tuple(plans))
