"""The OpenAPI description of Docker Hub's trigger URLs and of the trigger log."""

from __future__ import annotations

import uuid
from typing import Any

from core.triggers import MAX_BODY_BYTES, SOURCE_ID_NAMESPACE, TriggerOutcome
from service import openapi_parts as parts

TRIGGER = parts.obj({
    "id": {"type": "integer"},
    "repository": parts.nullable("string", description="None when the token or path named none"),
    "provider": parts.nullable("string"),
    "url_shape": {"type": "string", "enum": ["classic", "source"]},
    "client": {"type": "string", "description": "The caller's address"},
    "body": {"type": "string", "description": "The body as sent (cut, tokens masked)"},
    "outcome": {"type": "string", "enum": [o.value for o in TriggerOutcome]},
    "reason": parts.nullable("string"),
    "build_ids": parts.STRING_LIST,
    "status_code": {"type": "integer"},
    "received_at": {"type": "string", "format": "date-time"},
}, ["id", "repository", "provider", "url_shape", "client", "body", "outcome", "reason",
    "build_ids", "status_code", "received_at"])

TRIGGER_BODY = parts.obj({
    "build": {"type": "boolean", "description": "true: every rule with a literal source"},
    "docker_tag": {"type": "string", "description": "The rules whose tag template is this"},
    "source_type": {"type": "string", "description": "Branch or Tag (any case)"},
    "source_name": {"type": "string", "description": "That branch or tag, for every rule "
                    "matching it, regex rules included"},
})
TRIGGER_ANSWER = parts.obj({"builds": {"type": "array", "items": parts.ref("Build")},
                          "not_built": {"type": "string", "description": "Rules it named "
                                        "that did not build, and why"}}, ["builds"])
EXAMPLE_SOURCE = str(uuid.uuid5(SOURCE_ID_NAMESPACE, "github/acme/webapp"))
EXAMPLE_TOKEN = "example-trigger-token-0123456789"
TRIGGER_TOKEN = {"name": "token", "in": "path", "required": True, "example": EXAMPLE_TOKEN,
                 "schema": {"type": "string", "pattern": "^[A-Za-z0-9._~-]{1,200}$"}}
NOT_FOUND = {"description": "Unknown token, or a path that does not name its repository "
                            "(no hint which); Flask's HTML 404 when the path has no such shape",
             "content": {"application/json": {"schema": parts.ref("Error")},
                         "text/html": {"schema": {"type": "string"}}}}


def _trigger(summary: str, operation: str, name: dict[str, Any]) -> dict[str, Any]:
    """One trigger URL shape: its token is the credential, its bodies Docker Hub's."""
    return {"parameters": [name, TRIGGER_TOKEN], "post": {
        "summary": summary, "operationId": operation, "tags": ["triggers"],
        "description": "Docker Hub's trigger URL: no login or API token, the trigger token "
                       "is the credential and can only trigger builds. An empty body builds "
                       "every rule with a literal source. Every call is in GET /api/triggers.",
        "requestBody": {"required": False, "content": {
            "application/json": {"schema": parts.ref("TriggerBody"),
                                 "example": {"source_type": "Tag", "source_name": "v1.1"}},
            "application/x-www-form-urlencoded": {"schema": parts.ref("TriggerBody"),
                                                  "example": {"build": True}}}},
        "responses": {
            "202": parts.json_response(parts.ref("TriggerAnswer"), "The queued builds"),
            "400": parts.error_response("A body that is none of Docker Hub's"),
            "404": NOT_FOUND,
            "413": parts.error_response(f"A body over {MAX_BODY_BYTES} bytes"),
            "422": parts.error_response("Nothing matches, saying why"),
            "502": parts.error_response("git ls-remote failed (the forge is unreachable)"),
        }}}



TRIGGER_PATHS: dict[str, Any] = {
    "/api/triggers": {
        "get": {"summary": "Trigger URL calls, newest first", "operationId": "listTriggers",
                "tags": ["triggers"],
                "parameters": [{"name": "repository", "in": "query",
                                "schema": {"type": "string"}}, *parts.PAGING],
                "responses": {"200": parts.json_response(parts.obj({"triggers": {
                    "type": "array", "items": parts.ref("Trigger")}}, ["triggers"]),
                    "A page of trigger calls"), "401": parts.READ_401}},
    },
    "/u/{name}/trigger/{token}/": _trigger(
        "Docker Hub's classic trigger URL", "triggerClassic",
        {"name": "name", "in": "path", "required": True,
         "description": "The repository's owner/name, or its image's (without the registry)",
         "schema": {"type": "string", "pattern": "^[^/]+(/[^/]+)+$"},
         "example": "acme/webapp"}),
    "/api/build/v1/source/{source}/trigger/{token}/call/": _trigger(
        "Docker Hub's trigger URL", "triggerSource",
        {"name": "source", "in": "path", "required": True,
         "description": "The repository's source id, shown on its page",
         "schema": {"type": "string", "pattern": "^[0-9a-f-]{36}$"},
         "example": EXAMPLE_SOURCE}),
}
TRIGGER_SCHEMAS = {"Trigger": TRIGGER, "TriggerBody": TRIGGER_BODY,
                   "TriggerAnswer": TRIGGER_ANSWER}
