"""GET /api/openapi.json: the OpenAPI 3.0.3 description of the HTTP interface (public)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from core import forges
from core.build_options import BUILDERS
from core.decision import DeliveryOutcome
from core.status import BuildStatus
from service.openapi_parts import PAGING, READ_401, STRING_LIST
from service.openapi_parts import error_response as _error
from service.openapi_parts import json_response as _json
from service.openapi_parts import nullable as _nullable
from service.openapi_parts import obj as _object
from service.openapi_parts import ref as _ref
from service.openapi_parts import text_response as _text
from service.openapi_queues import BUILD_QUEUE_FIELDS, QUEUE_PATHS, QUEUE_SCHEMAS
from service.openapi_rebuilds import (
    BUILD_FIELDS,
    REBUILD_PATHS,
    REBUILD_SCHEMAS,
    TRIGGER_PARAMETER,
)
from service.openapi_triggers import TRIGGER_PATHS, TRIGGER_SCHEMAS

bp = Blueprint("openapi", __name__)
FORGES = list(forges.FORGES)
OUTCOMES = [outcome.value for outcome in DeliveryOutcome]


BUILD_ID = {"name": "build_id", "in": "path", "required": True,
            "schema": {"type": "string", "pattern": "^[0-9a-f]{1,32}$"},
            "example": "0190f5a2c3d4a1b2c3d4"}

BUILD = _object({
    "id": {"type": "string"},
    "repository": {"type": "string", "example": "acme/webapp"},
    "provider": {"type": "string", "example": "github"},
    "rule_index": {"type": "integer", "description": "0-based position of the rule"},
    "ref": {"type": "string", "example": "refs/heads/main"},
    "commit": {"type": "string", "description": "40-character commit SHA"},
    "status": {"type": "string", "enum": [s.value for s in BuildStatus]},
    "trigger": {"type": "string", "description": "push, manual (Build now), retry, trigger "
                "(a Docker Hub trigger URL), base_image (a base changed) or schedule"},
    "tags": {**STRING_LIST, "description": "Full image references pushed"},
    "digest": _nullable("string", description="The registry's manifest digest; of the manifest "
                        "list when the build made several platforms"),
    "platform_digests": {"type": "array", "description": "Each platform's manifest digest in "
                         "the list (empty for a single-platform build)",
                         "items": _object({"platform": {"type": "string",
                                                        "example": "linux/arm64"},
                                           "digest": {"type": "string"}},
                                          ["platform", "digest"])},
    "builder": {"type": "string", "enum": list(BUILDERS),
                "description": "The builder the build's rule uses"},
    "platforms": {**STRING_LIST, "description": "Platforms built (empty: the worker's own)"},
    **BUILD_QUEUE_FIELDS,
    "error": _nullable("string"),
    "superseded_by": _nullable("string"),
    "reused_from": _nullable("string", description="The build whose image this build pushed "
                             "again instead of building the same commit and inputs"),
    "delivery_id": _nullable("string"),
    "created_at": {"type": "string", "format": "date-time"},
    "started_at": _nullable("string", format="date-time"),
    "finished_at": _nullable("string", format="date-time"),
    "duration_seconds": _nullable("number"),
    "phases": _object({name: _nullable("string", format="date-time")
                       for name in ("cloning", "building", "pushing", "finished")},
                      ["cloning", "building", "pushing", "finished"]),
    **BUILD_FIELDS,
}, [*BUILD_FIELDS, "id", "repository", "provider", "rule_index", "ref", "commit", "status",
    "trigger", "tags", "digest", "platform_digests", "builder", "platforms", "queue", "error",
    "superseded_by",
    "reused_from", "delivery_id", "created_at", "started_at", "finished_at", "duration_seconds",
    "phases"])

DELIVERY = _object({
    "id": {"type": "integer"},
    "forge": {"type": "string"},
    "delivery_id": _nullable("string"),
    "event": {"type": "string"},
    "repository": _nullable("string"),
    "refs": STRING_LIST,
    "outcome": {"type": "string", "enum": OUTCOMES},
    "reason": _nullable("string"),
    "build_ids": STRING_LIST,
    "status_code": {"type": "integer"},
    "received_at": {"type": "string", "format": "date-time"},
}, ["id", "forge", "delivery_id", "event", "repository", "refs", "outcome", "reason",
    "build_ids", "status_code", "received_at"])

NOTIFICATION = _object({
    "id": {"type": "string", "description": "Also the webhook's X-Autobuild-Delivery"},
    "build_id": {"type": "string"},
    "kind": {"type": "string", "enum": ["commit_status", "webhook", "chat"]},
    "target": {"type": "string", "description": "Where it goes, without credentials"},
    "event": {"type": "string", "enum": [s.value for s in BuildStatus]},
    "state": {"type": "string", "enum": ["pending", "sending", "sent", "failed", "skipped"]},
    "attempts": {"type": "integer"},
    "last_status": _nullable("integer"),
    "last_answer": _nullable("string"),
    "next_attempt_at": _nullable("string", format="date-time"),
    "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"},
    "sent_at": _nullable("string", format="date-time"),
}, ["id", "build_id", "kind", "target", "event", "state", "attempts", "last_status",
    "last_answer", "next_attempt_at", "created_at", "updated_at", "sent_at"])

BUILD_NOW = _object({
    "repository": {"type": "string", "minLength": 1, "example": "acme/webapp"},
    "ref": {"type": "string", "minLength": 1, "example": "refs/heads/master",
            "description": "refs/heads/…, refs/tags/…, or a bare branch (then tag) name"},
    "rule_index": {"type": "integer", "nullable": True,
                   "description": "Build only this rule (0-based); default: every match"},
    "provider": {"type": "string", "description": "When two forges have the same name"},
}, ["repository", "ref"])

HOOK_ANSWER = _object({
    "builds": {"type": "array", "items": _ref("Build")},
    "ignored": {"type": "string"},
    "error": {"type": "string"},
    "message": {"type": "string"},
    "duplicate": {"type": "boolean"},
})

READINESS = _object({name: {"type": "string", "description": '"ok", or why not'}
                     for name in ("database", "redis", "docker")},
                    ["database", "redis", "docker"])
READINESS["properties"]["redis"]["description"] = '"ok", "not used", or why not'

BUILDS_LIST = _object({"builds": {"type": "array", "items": _ref("Build")}}, ["builds"])

PATHS: dict[str, Any] = {
    "/api/builds": {
        "get": {
            "summary": "Builds, newest first", "operationId": "listBuilds", "tags": ["builds"],
            "parameters": [
                {"name": "repository", "in": "query", "schema": {"type": "string"}},
                {"name": "status", "in": "query",
                 "schema": {"type": "string", "enum": [s.value for s in BuildStatus]}},
                {"name": "ref", "in": "query", "schema": {"type": "string"}},
                TRIGGER_PARAMETER,
                *PAGING,
            ],
            "responses": {"200": _json(BUILDS_LIST, "A page of builds"), "401": READ_401},
        },
        "post": {
            "summary": "Build now: queue the rules matching a ref's current commit",
            "operationId": "createBuild", "tags": ["builds"],
            "description": "Needs the API token (or a logged-in session sending its CSRF token "
                           "in X-CSRF-Token). The ref is resolved with git ls-remote.",
            "security": [{"bearerAuth": []}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": _ref("BuildNow"),
                "example": {"repository": "acme/webapp", "ref": "refs/heads/master"}}}},
            "responses": {
                "202": _json(BUILDS_LIST, "The queued builds"),
                "400": _error("Not a JSON object, or a field of the wrong type"),
                "401": _error("No or a wrong token"),
                "404": _error("The repository is not configured"),
                "422": _error("Invalid ref, no such ref, or no rule builds it"),
                "502": _error("git ls-remote failed (the forge is unreachable)"),
            },
        },
    },
    "/api/builds/{build_id}": {
        "parameters": [BUILD_ID],
        "get": {"summary": "One build", "operationId": "getBuild", "tags": ["builds"],
                "responses": {"200": _json(_ref("Build"), "The build"), "401": READ_401,
                              "404": _error("No such build")}},
    },
    "/api/builds/{build_id}/log": {
        "parameters": [BUILD_ID],
        "get": {"summary": "The build's whole log", "operationId": "getBuildLog",
                "tags": ["builds"],
                "responses": {"200": _text("The log so far"), "401": READ_401,
                              "404": _error("No such build")}},
    },
    "/api/builds/{build_id}/notifications": {
        "parameters": [BUILD_ID],
        "get": {"summary": "The build's commit statuses, webhooks and chat messages",
                "operationId": "getBuildNotifications", "tags": ["builds"],
                "responses": {"200": _json(_object({"notifications": {
                    "type": "array", "items": _ref("Notification")}}, ["notifications"]),
                    "Each notification with its state, attempts and last answer"),
                    "401": READ_401, "404": _error("No such build")}},
    },
    "/api/builds/{build_id}/cancel": {
        "parameters": [BUILD_ID],
        "post": {"summary": "Cancel a queued or running build", "operationId": "cancelBuild",
                 "tags": ["builds"], "security": [{"bearerAuth": []}],
                 "description": "A queued build is cancelled at once; a running one is stopped "
                                "by its worker within seconds.",
                 "responses": {"202": _json(_ref("Build"), "The cancelled build"),
                               "401": _error("No or a wrong token"),
                               "404": _error("No such build"),
                               "409": _error("The build already ended")}},
    },
    "/api/builds/{build_id}/retry": {
        "parameters": [BUILD_ID],
        "post": {"summary": "Queue a new build of the same commit and rule",
                 "operationId": "retryBuild", "tags": ["builds"],
                 "security": [{"bearerAuth": []}],
                 "requestBody": {"required": False, "content": {"application/json": {
                     "schema": _object({"force": {
                         "type": "boolean", "description": "Confirm a retry that moves the "
                         "rule's tags back to an older commit than they hold"}})}}},
                 "responses": {"202": _json(BUILDS_LIST, "The new build"),
                               "401": _error("No or a wrong token"),
                               "404": _error("No such build"),
                               "409": _error("The build has not ended yet, or retrying it "
                                             "would move the tags back (send force)")}},
    },
    "/api/deliveries": {
        "get": {"summary": "Webhook deliveries, newest first", "operationId": "listDeliveries",
                "tags": ["deliveries"], "parameters": PAGING,
                "responses": {"200": _json(_object({"deliveries": {
                    "type": "array", "items": _ref("Delivery")}}, ["deliveries"]),
                    "A page of deliveries"), "401": READ_401}},
    },
    **TRIGGER_PATHS,
    **REBUILD_PATHS,
    **QUEUE_PATHS,
    "/api/openapi.json": {
        "get": {"summary": "This document", "operationId": "getOpenAPI", "tags": ["meta"],
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.0.3")}},
    },
    "/hooks/{forge}": {
        "post": {
            "summary": "Receive a forge webhook", "operationId": "receiveWebhook",
            "tags": ["webhooks"],
            "description": "Verified with the repository's secret (X-Hub-Signature-256, "
                           "X-Gitlab-Token, X-Gitea-Signature, X-Hub-Signature); builds are "
                           "queued, never run inline. Redeliveries are answered, not re-queued.",
            "parameters": [{"name": "forge", "in": "path", "required": True,
                            "schema": {"type": "string", "enum": FORGES}}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"type": "object"}}}},
            "responses": {
                "200": _json(HOOK_ANSWER, "A ping, or a redelivery (duplicate: true)"),
                "202": _json(HOOK_ANSWER, "Builds queued, or the push ignored (with why)"),
                "400": _error("Malformed payload"),
                "401": _error("Signature check failed"),
                "404": _error("Unknown forge or repository"),
                "413": _error("Body over the size limit"),
                "422": _error("Payload not understood"),
            },
        },
    },
    "/healthz": {"get": {"summary": "Liveness", "operationId": "healthz", "tags": ["ops"],
                         "responses": {"200": _json(_object({"status": {
                             "type": "string", "enum": ["ok"]}}, ["status"]), "Up")}}},
    "/readyz": {"get": {"summary": "Readiness: database, Redis, Docker engine",
                        "operationId": "readyz", "tags": ["ops"],
                        "responses": {"200": _json(_ref("Readiness"), "All reachable"),
                                      "503": _json(_ref("Readiness"), "Some not reachable")}}},
    "/metrics": {"get": {"summary": "Prometheus metrics (text format 0.0.4)",
                         "operationId": "metrics", "tags": ["ops"],
                         "responses": {"200": _text("Exposition"), "401": READ_401}}},
    "/badge/{target}": {"get": {
        "summary": "Build status badge (SVG)", "operationId": "badge", "tags": ["badges"],
        "description": "`{target}` is `<repository>.svg` (first rule's newest build) or "
                       "`<repository>/<tag>.svg`; the repository may contain slashes. "
                       "Unknown repositories and tags get a grey 'unknown' badge.",
        "parameters": [{"name": "target", "in": "path", "required": True,
                        "schema": {"type": "string"}, "example": "acme/webapp.svg"}],
        "responses": {"200": _text("The badge", "image/svg+xml"),
                      "304": {"description": "Not modified (If-None-Match)"},
                      "401": READ_401,
                      "404": {"description": "The path does not end in .svg (or starts "
                                              "with a slash: Flask's own HTML 404)",
                              "content": {m: {"schema": {"type": "string"}}
                                          for m in ("text/plain", "text/html")}}}}},
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Autobuild", "version": "0.1.0",
             "description": "Self-hosted automated Docker image builds from Git pushes."},
    "paths": PATHS,
    "components": {
        "schemas": {"Build": BUILD, "Delivery": DELIVERY, "Notification": NOTIFICATION,
                    "BuildNow": BUILD_NOW, **TRIGGER_SCHEMAS, **REBUILD_SCHEMAS,
                    **QUEUE_SCHEMAS,
                    "HookAnswer": HOOK_ANSWER, "Readiness": READINESS,
                    "Error": _object({"error": {"type": "string"}}, ["error"])},
        "securitySchemes": {"bearerAuth": {
            "type": "http", "scheme": "bearer",
            "description": "The AUTOBUILD_API_TOKEN"}},
    },
}


@bp.get("/api/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI document (public, like any API reference)."""
    return jsonify(DOCUMENT)
