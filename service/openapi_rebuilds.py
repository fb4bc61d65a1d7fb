"""The OpenAPI description of rebuilds: BUILD's bases and cause, the registry's notifications
endpoint, the rebuild log, and the trigger filter."""

from __future__ import annotations

from typing import Any

from core.plan import TRIGGERS
from core.rebuilds import Verdict
from core.registry_events import CONTENT_TYPE, MAX_BODY_BYTES
from service import openapi_parts as parts

RULE_REF = {"repository": {"type": "string"}, "provider": {"type": "string"},
            "rule_index": {"type": "integer"}, "ref": {"type": "string"}}
CAUSE = parts.obj({
    "kind": {"type": "string", "enum": ["base_image", "schedule"]},
    "origin": {"type": "string", "description": "The change that started the cascade "
               "(base:<reference>@<digest>) or the schedule's run"},
    "event_id": parts.nullable("integer", description="The rebuild event (GET /api/rebuilds)"),
    "chain": {"type": "array", "description": "The rules rebuilt on the way, oldest first, "
              "ending with this build's", "items": parts.obj(RULE_REF, list(RULE_REF))},
    "reason": {"type": "string"},
    "base": {"type": "string"}, "old_digest": {"type": "string"},
    "new_digest": {"type": "string"},
    "source": {"type": "string", "enum": ["notification", "poll"]},
    "schedule": {"type": "string"}, "timezone": {"type": "string"}, "due": {"type": "string"},
}, ["kind", "origin", "event_id", "chain", "reason"])
BUILD_FIELDS: dict[str, Any] = {
    "bases": {"type": "array", "description": "The base images (FROM, after build arguments) "
              "a successful build used, with the digest pulled or found (null: an image only "
              "the worker's engine had)",
              "items": parts.obj({"reference": {"type": "string"},
                                  "digest": parts.nullable("string")},
                                 ["reference", "digest"])},
    "cause": {**CAUSE, "nullable": True,
              "description": "Why a base_image or schedule build was queued"},
    "reason": parts.nullable("string", description="The cause in one sentence"),
}
TRIGGER_PARAMETER = {"name": "trigger", "in": "query", "schema": {"type": "string",
                     "enum": list(TRIGGERS)}}
DECISION = parts.obj({**RULE_REF, "verdict": {"type": "string",
                                              "enum": [v.value for v in Verdict]},
                      "reason": {"type": "string"}, "build_id": parts.nullable("string")},
                     [*RULE_REF, "verdict", "reason", "build_id"])
REBUILD_EVENT = parts.obj({
    "id": {"type": "integer"},
    "kind": {"type": "string", "enum": ["notification", "poll", "schedule"]},
    "origin": {"type": "string"},
    "reference": parts.nullable("string"), "digest": parts.nullable("string"),
    "pusher_build_id": parts.nullable("string", description="Our build whose push this was"),
    "outcome": {"type": "string", "enum": ["queued", "ignored"]},
    "reason": parts.nullable("string"),
    "build_ids": parts.STRING_LIST,
    "received_at": {"type": "string", "format": "date-time"},
    "decisions": {"type": "array", "items": parts.ref("RebuildDecision")},
}, ["id", "kind", "origin", "reference", "digest", "pusher_build_id", "outcome", "reason",
    "build_ids", "received_at", "decisions"])
REGISTRY_ANSWER = parts.obj({
    "events": {"type": "array", "items": {"type": "object", "description": "A RebuildEvent "
               "with the registry's event id as registry_event, or {registry_event, "
               "reference, digest, duplicate: true, build_ids: []} for one seen before"}},
    "skipped": {"type": "integer", "description": "Events that were no tag push"},
}, ["events", "skipped"])

REBUILD_SCHEMAS = {"RebuildEvent": REBUILD_EVENT, "RebuildDecision": DECISION}
REBUILD_PATHS: dict[str, Any] = {
    "/api/rebuilds": {
        "get": {"summary": "Rebuild events (registry notifications, polls, schedule runs), "
                           "newest first, with each rule's decision",
                "operationId": "listRebuilds", "tags": ["rebuilds"],
                "parameters": [{"name": "repository", "in": "query",
                                "schema": {"type": "string"}}, *parts.PAGING],
                "responses": {"200": parts.json_response(parts.obj({"rebuilds": {
                    "type": "array", "items": parts.ref("RebuildEvent")}}, ["rebuilds"]),
                    "A page of rebuild events"), "401": parts.READ_401}},
    },
    "/hooks/registry": {
        "post": {
            "summary": "Receive the registry's notifications (CNCF distribution)",
            "operationId": "receiveRegistryNotification", "tags": ["webhooks"],
            "description": "Off (404) unless AUTOBUILD_REGISTRY_TOKEN is set; authenticated by "
                           "`Authorization: Bearer <token>`. Each tag push rebuilds the rules "
                           "whose latest image used an older digest of that base.",
            "security": [{"bearerAuth": []}],
            "requestBody": {"required": True, "content": {CONTENT_TYPE: {
                "schema": {"type": "object"}}}},
            "responses": {
                "202": parts.json_response(REGISTRY_ANSWER, "What each tag push did"),
                "400": parts.error_response("Malformed envelope (names the field)"),
                "401": parts.error_response("Missing or wrong bearer token"),
                "404": parts.error_response("Notifications are off (no token configured)"),
                "413": parts.error_response(f"Body over {MAX_BODY_BYTES} bytes"),
                "415": parts.error_response(f"Content type other than {CONTENT_TYPE}"),
            },
        },
    },
}
