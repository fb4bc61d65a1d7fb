"""Every operation of the OpenAPI document, fuzzed with hypothesis: odd path parameters, query
strings, bodies, content types and headers, with and without the API token. No answer is a
server error, and no request without the token queues a build."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.openapi import DOCUMENT
from tests.conftest import API_TOKEN, repo_yaml
from tests.fakes import RecordingQueue

OPERATIONS = [(method.upper(), path, op) for path, ops in DOCUMENT["paths"].items()
              for method, op in ops.items() if method != "parameters"]
MAY_BE_UNAVAILABLE = {"/readyz", "/api/queues"}  # 503 by design while Redis is down, as here

octets = st.binary(max_size=40) | st.sampled_from(
    [b"", b"..", b"%", b"\xed\xa0\x80", b"\xff\xfe", "²".encode(), b"9" * 40, b"-1",
     b"acme/webapp", b"\x00", b"a" * 300])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=12)
bodies = st.one_of(
    st.none(),
    json_values.map(lambda value: ("json", value)),
    st.fixed_dictionaries({"repository": st.sampled_from(["acme/webapp", "acme/\ud800", ""])
                           | st.text(max_size=20),
                           "ref": st.text(max_size=20) | st.integers(),
                           "rule_index": st.integers() | st.text(max_size=3)},
                          optional={"force": st.booleans() | st.text(max_size=4)}
                          ).map(lambda value: ("json", value)),
    st.binary(max_size=200).map(lambda raw: ("raw", raw)))
content_types = st.sampled_from(["application/json", "application/x-www-form-urlencoded",
                                 "text/plain", "application/json; charset=latin-1", ""])


def url_for(path: str, op: dict[str, Any], values: list[bytes],
            query: list[tuple[bytes, bytes]]) -> str:
    """`path` with each {parameter} replaced, and a percent-encoded query string."""
    for value, parameter in zip(values, [p for p in op.get("parameters", [])
                                         if p["in"] == "path"], strict=False):
        path = path.replace("{" + parameter["name"] + "}", quote_from_bytes(value, safe="") or "x")
    path = path.replace("{", "").replace("}", "")
    pairs = "&".join(f"{quote_from_bytes(k)}={quote_from_bytes(v)}" for k, v in query)
    return f"{path}?{pairs}" if pairs else path


@pytest.fixture
def fuzzed_app(app_factory: Callable[..., Flask]) -> Flask:
    """The default repository, and a second one with a trigger token."""
    triggered = repo_yaml("acme/triggered").replace(
        "    rules:\n", "    trigger_token: a-trigger-token-of-length\n    rules:\n")
    return app_factory("repositories:\n" + repo_yaml() + triggered)


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS,
                         ids=[f"{method} {path}" for method, path, _ in OPERATIONS])
def test_no_operation_answers_a_server_error_or_builds_without_the_token(
    fuzzed_app: Flask, queue: RecordingQueue, method: str, path: str, op: dict[str, Any],
) -> None:
    declared = [p["name"].encode() for p in op.get("parameters", []) if p["in"] == "query"]

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(values=st.lists(octets, min_size=3, max_size=3),
           query=st.lists(st.tuples(st.sampled_from(declared) if declared else octets, octets),
                          max_size=4),
           body=bodies, content_type=content_types, authorised=st.booleans(),
           header=st.sampled_from(["X-GitHub-Event", "X-Gitlab-Token", "X-Hub-Signature-256",
                                   "X-Event-Key", "Idempotency-Key"]),
           header_value=st.text(st.characters(min_codepoint=32, max_codepoint=255),
                                max_size=60))
    def check(values: list[bytes], query: list[tuple[bytes, bytes]],
              body: tuple[str, Any] | None, content_type: str, authorised: bool, header: str,
              header_value: str) -> None:
        headers = {header: header_value}
        if content_type:
            headers["Content-Type"] = content_type
        if authorised:
            headers["Authorization"] = f"Bearer {API_TOKEN}"
        before = len(queue.enqueued)
        data = None
        if body is not None:
            kind, value = body
            data = value if kind == "raw" else json.dumps(value).encode()
        response = fuzzed_app.test_client().open(url_for(path, op, values, query),
                                                 method=method, headers=headers, data=data)
        allowed = 504 if path in MAY_BE_UNAVAILABLE else 500
        assert response.status_code < allowed, (response.status_code, response.get_data()[:300])
        if not authorised:
            assert len(queue.enqueued) == before, "a build was queued without the API token"

    check()
