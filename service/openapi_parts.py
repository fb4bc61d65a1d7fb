"""Building blocks of the OpenAPI document (service/openapi.py and service/openapi_triggers.py):
schema references, responses, paging parameters."""

from __future__ import annotations

from typing import Any


def ref(name: str) -> dict[str, str]:
    """A reference to a schema of components/schemas."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A JSON response with this schema."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error_response(description: str) -> dict[str, Any]:
    """An {"error": why} response."""
    return json_response(ref("Error"), description)


def text_response(description: str, media: str = "text/plain") -> dict[str, Any]:
    """A text response."""
    return {"description": description, "content": {media: {"schema": {"type": "string"}}}}


def nullable(kind: str, **extra: Any) -> dict[str, Any]:
    """A schema of `kind` that may be null."""
    return {"type": kind, "nullable": True, **extra}


def obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """An object schema."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


PAGING = [
    {"name": "limit", "in": "query", "required": False,
     "description": "Page size, clamped to 1..200; a non-number means the defaults.",
     "schema": {"type": "integer", "default": 50}},
    {"name": "offset", "in": "query", "required": False,
     "description": "Items to skip (negative counts as 0).",
     "schema": {"type": "integer", "default": 0}},
]
READ_401 = {"description": "AUTOBUILD_READ_ACCESS=login and neither a session nor the token."}
STRING_LIST = {"type": "array", "items": {"type": "string"}}
