"""The OpenAPI description of the queues' live state (GET /api/queues) and BUILD's queue fields."""

from __future__ import annotations

from typing import Any

from service import openapi_parts as parts

BUILD_QUEUE_FIELDS: dict[str, Any] = {
    "queue": {"type": "string", "example": "builds",
              "description": "The RQ queue the build waits on (a rule's `queue:`)"},
    "waiting_reason": parts.nullable(
        "string", description="Why a queued build is not picked up, e.g. \"no worker is "
        "listening on queue arm64\"; null otherwise (and in webhook and trigger answers)"),
}

WORKER = parts.obj({
    "name": {"type": "string"},
    "hostname": {"type": "string"},
    "pid": parts.nullable("integer"),
    "state": {"type": "string", "description": "RQ's: idle, busy, suspended, …"},
    "queues": parts.STRING_LIST,
}, ["name", "hostname", "pid", "state", "queues"])

QUEUE = parts.obj({
    "name": {"type": "string", "example": "arm64"},
    "depth": {"type": "integer", "description": "Jobs waiting on the queue now"},
    "workers": {"type": "array", "items": parts.ref("Worker"),
                "description": "Live workers listening on it (none: its builds wait)"},
}, ["name", "depth", "workers"])

QUEUE_SCHEMAS = {"Queue": QUEUE, "Worker": WORKER}

QUEUE_PATHS: dict[str, Any] = {
    "/api/queues": {
        "get": {"summary": "Every queue the rules use or a worker listens on, live",
                "operationId": "listQueues", "tags": ["ops"],
                "description": "Read from RQ's registries at call time; a build's state "
                               "still comes from the database only.",
                "responses": {
                    "200": parts.json_response(parts.obj({"queues": {
                        "type": "array", "items": parts.ref("Queue")}}, ["queues"]),
                        "Each queue's waiting jobs and live workers"),
                    "401": parts.READ_401,
                    "503": parts.error_response("Redis does not answer"),
                }},
    },
}
