"""One webhook delivery as received, read once: headers, exact body bytes, decoded JSON (no I/O).

The web view builds an Envelope from the raw request and hands only the Envelope to the forge
adapter, so the body is decoded exactly once per delivery and the signature is checked over
the very bytes that were received.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs

from core.errors import PayloadError

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
"""GitHub and Gitea can deliver the JSON as a `payload=` field of a form body."""


@dataclass(frozen=True)
class Envelope:
    """A delivery's headers (names lower-cased), body bytes and top-level JSON object.

    A body that is not a JSON object still makes an Envelope (its headers name the event and
    the delivery, which the delivery log records); reading `data` then raises PayloadError.
    """

    headers: Mapping[str, str]
    body: bytes
    payload: Mapping[str, Any] | None
    problem: str | None = None

    @property
    def data(self) -> Mapping[str, Any]:
        """The decoded JSON object; PayloadError saying what is wrong when there is none."""
        if self.payload is None:
            raise PayloadError(self.problem or "body is not a JSON object")
        return self.payload

    def header(self, name: str) -> str:
        """The stripped value of header `name` (any case); "" when absent."""
        return self.headers.get(name.lower(), "").strip()

    def has_header(self, name: str) -> bool:
        """Whether header `name` was sent at all (even empty)."""
        return name.lower() in self.headers

    def first_header(self, *names: str) -> str:
        """The value of the first of `names` that is present and non-empty; "" when none is."""
        return next((value for value in map(self.header, names) if value), "")


def open_envelope(headers: Mapping[str, str], body: bytes, *, form_bodies: bool) -> Envelope:
    """The envelope of a delivery, its body decoded as a JSON object (or, with `form_bodies`,
    as a form whose `payload` field holds one)."""
    lowered = MappingProxyType({str(name).lower(): str(value) for name, value in headers.items()})
    media_type = lowered.get("content-type", "").split(";", 1)[0].strip().lower()
    try:
        if form_bodies and media_type == FORM_CONTENT_TYPE:
            payload = decode_json(form_payload(body))
        else:
            payload = decode_json(body)
    except PayloadError as exc:
        return Envelope(lowered, body, None, exc.message)
    return Envelope(lowered, body, MappingProxyType(payload))


def decode_json(body: bytes | str) -> dict[str, Any]:
    """The JSON object in `body`, or PayloadError when it is not JSON or not an object."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError too
        raise PayloadError(f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError(f"body is not a JSON object but a JSON {type(data).__name__}")
    return data


def form_payload(body: bytes) -> str:
    """The single `payload` field of a form-encoded body, or PayloadError."""
    try:
        fields = parse_qs(body.decode("ascii"), strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(f"form body is not valid: {exc}") from None
    values = fields.get("payload", [])
    if len(values) != 1:
        raise PayloadError("form body must have exactly one payload field")
    return values[0]
