"""The JSON API: builds, their logs and notifications, Build now, deliveries, trigger calls,
and the queues' live state."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from records.builds import BuildFilter, BuildRecord
from service import actions
from service.actions import ActionError, build_now, find_repository
from service.auth import actor, bearer_ok, check_read_access, logged_in, require_action
from service.extensions import (
    delivery_log,
    outbox,
    queue_snapshot,
    rebuild_log,
    store,
    trigger_log,
)
from service.request_args import MAX_OFFSET, query_int

bp = Blueprint("api", __name__, url_prefix="/api")
MAX_PAGE = 200


def _page_args() -> tuple[int, int]:
    """(limit, offset) from the query: plain numbers, clamped; anything else the defaults."""
    return (query_int("limit", 50, low=1, high=MAX_PAGE),
            query_int("offset", 0, low=0, high=MAX_OFFSET))


def _builds_json(builds: Iterable[BuildRecord]) -> list[dict[str, Any]]:
    """BUILD objects with `waiting_reason`: why a queued build is not picked up, or null."""
    builds = list(builds)
    live = queue_snapshot() if any(b.status.value == "queued" for b in builds) else None
    return [{**b.to_dict(), "waiting_reason": live.waiting_reason(b) if live else None}
            for b in builds]


@bp.before_request
def _read_access() -> None:
    """With AUTOBUILD_READ_ACCESS=login, every method needs a login or the token."""
    check_read_access()


@bp.errorhandler(ActionError)
def _refused(error: ActionError) -> tuple[Response, int]:
    """Every refused action answers {"error": why} with its status."""
    return jsonify(error=error.message), error.status


@bp.get("/builds")
def list_builds() -> Response:
    """Builds newest first; filters: repository, status, ref, trigger; paging: limit, offset."""
    limit, offset = _page_args()
    ref = request.args.get("ref") or None
    where = BuildFilter(repository=request.args.get("repository") or None,
                        status=request.args.get("status") or None,
                        refs=(ref,) if ref is not None else None,
                        trigger=request.args.get("trigger") or None)
    builds = store().list_builds(where, limit=limit, offset=offset)
    return jsonify(builds=_builds_json(builds))


@bp.get("/builds/<build_id>")
def get_build(build_id: str) -> Response | tuple[Response, int]:
    """One build."""
    build = store().get_build(build_id)
    if build is None:
        return jsonify(error=f"no build {build_id!r}"), 404
    return jsonify(_builds_json([build])[0])


@bp.get("/builds/<build_id>/log")
def get_log(build_id: str) -> Response | tuple[Response, int]:
    """The build's whole log as text."""
    if store().get_build(build_id) is None:
        return jsonify(error=f"no build {build_id!r}"), 404
    return Response(store().get_log(build_id), mimetype="text/plain")


@bp.get("/builds/<build_id>/notifications")
def get_notifications(build_id: str) -> Response | tuple[Response, int]:
    """The build's commit statuses, webhooks and chat messages, with their last answers."""
    if store().get_build(build_id) is None:
        return jsonify(error=f"no build {build_id!r}"), 404
    return jsonify(notifications=[n.to_dict() for n in outbox().for_build(build_id)])


@bp.post("/builds")
@require_action
def create_build() -> tuple[Response, int]:
    """Build now: {"repository": "acme/webapp", "ref": "refs/heads/main"} → 202 with builds."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(error="send a JSON object with repository and ref"), 400
    name, ref = data.get("repository"), data.get("ref")
    if not isinstance(name, str) or not name or not isinstance(ref, str) or not ref:
        return jsonify(error="repository and ref are required strings"), 400
    rule = data.get("rule_index")
    if rule is not None and (not isinstance(rule, int) or isinstance(rule, bool)):
        return jsonify(error="rule_index must be a whole number"), 400
    provider = data.get("provider")
    repo = find_repository(name, provider if isinstance(provider, str) else None)
    builds = build_now(repo, ref, rule_index=rule, user=actor())
    return jsonify(builds=_builds_json(builds)), 202


@bp.post("/builds/<build_id>/cancel")
@require_action
def cancel_build(build_id: str) -> tuple[Response, int]:
    """Cancel a queued or running build → 202 BUILD; 409 when it already ended."""
    return jsonify(_builds_json([actions.cancel(build_id, user=actor())])[0]), 202


@bp.post("/builds/<build_id>/retry")
@require_action
def retry_build(build_id: str) -> tuple[Response, int]:
    """Queue a new build of the same commit and rule → 202 {"builds": [BUILD]}; 409 when it
    would move the tags back to an older commit, unless the body is {"force": true}."""
    data = request.get_json(silent=True)
    force = isinstance(data, dict) and data.get("force") is True
    return jsonify(builds=_builds_json([actions.retry(build_id, user=actor(), force=force)])), 202


@bp.get("/deliveries")
def list_deliveries() -> Response:
    """Webhook deliveries newest first, with their outcome and reason."""
    limit, offset = _page_args()
    records = delivery_log().recent_deliveries(limit=limit, offset=offset)
    trusted = logged_in() or bearer_ok()
    return jsonify(deliveries=[d.to_dict(show_rejected_ids=trusted) for d in records])


@bp.get("/rebuilds")
def list_rebuilds() -> Response:
    """Rebuild events newest first, with each rule's decision; filter: repository."""
    limit, offset = _page_args()
    events = rebuild_log().recent_events(limit=limit, offset=offset,
                                         repository=request.args.get("repository") or None)
    return jsonify(rebuilds=[e.to_dict() for e in events])


@bp.get("/triggers")
def list_triggers() -> Response:
    """Docker Hub trigger URL calls newest first, with their outcome; filter: repository."""
    limit, offset = _page_args()
    calls = trigger_log().list_calls(limit=limit, offset=offset,
                                     repository=request.args.get("repository") or None)
    return jsonify(triggers=[c.to_dict() for c in calls])


@bp.get("/queues")
def list_queues() -> tuple[Response, int]:
    """Every queue the rules use or a live worker listens on: waiting jobs and live workers;
    503 when Redis cannot be read."""
    live = queue_snapshot()
    if live is None:
        return jsonify(error="the queues cannot be read: Redis does not answer"), 503
    return jsonify(queues=[q.to_dict() for q in live.queues]), 200
