"""The OpenAPI document: valid, complete, and true of the app (a schemathesis fuzz run)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.status import BuildStatus
from records.builds import BuildRecord
from records.deliveries import DeliveryRecord
from records.triggers import TriggerRecord
from service.openapi_triggers import EXAMPLE_TOKEN
from tests.conftest import API_TOKEN, make_repo, repo_yaml
from tests.factories import make_plan
from tests.fakes import FakeQueueWatch

OPS_PATHS = {"/hooks/{forge}": "post", "/healthz": "get", "/readyz": "get", "/metrics": "get",
             "/badge/{target}": "get"}


def openapi_path(rule: str) -> str:
    """A Werkzeug rule such as /api/builds/<build_id> in OpenAPI form (/api/builds/{build_id})."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


@pytest.fixture
def document(client: Any) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def test_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"] == "3.0.3"


def test_every_api_route_is_documented(app: Flask, document: dict[str, Any]) -> None:
    routes = {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/api/", "/hooks/", "/badge/", "/u/")) or rule.rule in OPS_PATHS
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item if method != "parameters"}
    assert any(path.startswith("/api/") for path, _ in routes)
    assert routes - documented == set(), "routes missing from service/openapi.py"
    assert documented - routes == set(), "documented paths the app does not serve"
    assert set(OPS_PATHS.items()) <= routes


def test_build_now_is_bearer_protected_and_errors_share_a_schema(document: dict[str, Any]
                                                                  ) -> None:
    post = document["paths"]["/api/builds"]["post"]
    assert post["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert post["responses"]["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}


def test_build_and_delivery_schemas_list_every_field(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    build = BuildRecord(
        id="b", repository="r", provider="github", rule_index=0, ref="refs/heads/x",
        commit="a" * 40, status=BuildStatus.QUEUED, trigger="push", tags=("i:t",), digest=None,
        error=None, plan=make_plan(),
        delivery_id=None, superseded_by=None, created_at=datetime.now(UTC), started_at=None,
        finished_at=None, log_size=0)
    # waiting_reason is live state the API adds (not in webhook and trigger answers)
    assert set(schemas["Build"]["properties"]) == set(build.to_dict()) | {"waiting_reason"}
    assert set(schemas["Build"]["required"]) == set(build.to_dict())
    assert set(schemas["Delivery"]["properties"]) == {
        f.name for f in fields(DeliveryRecord)}
    assert set(schemas["Trigger"]["properties"]) == set(schemas["Trigger"]["required"]) == {
        f.name for f in fields(TriggerRecord)}


# the fuzz run -------------------------------------------------------------------------------


@pytest.fixture
def fuzz_app(app_factory: Callable[..., Flask], tmp_path: Path) -> Flask:
    """An app whose repository is a real local bare repo, so Build now resolves refs offline."""
    bare, _ = make_repo(tmp_path / "source", {"Dockerfile": "FROM scratch\n"}, branch="master")
    rules = repo_yaml(clone_url=f"file://{bare}").replace(
        "    rules:\n", f"    trigger_token: {EXAMPLE_TOKEN}\n    rules:\n")
    return app_factory("repositories:\n" + rules,
                       QUEUE_WATCH=FakeQueueWatch({"builds": ["host-a"]}, depths={"builds": 1}))


def test_fuzz_finds_no_server_error(fuzz_app: Flask) -> None:
    """Every operation, valid then invalid input plus its examples, with the API token.

    No 5xx, and answers as documented. The one 5xx the document declares, 502 from Build now,
    is git ls-remote failing; the repository here is a local bare one, so it cannot happen.
    """
    api = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)
    token = {"Authorization": f"Bearer {API_TOKEN}"}
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
        strategies += api.get_strategies_from_examples(operation)

        @given(case=st.one_of(strategies))
        @settings(max_examples=25, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit,
                                                                  Phase.generate])
        def run(case: Any) -> None:
            case.call_and_validate(headers=token, checks=checks)

        run()
    outcomes = {call.outcome.value for call in
                fuzz_app.extensions["trigger_log"].list_calls(limit=200)}
    assert {"queued", "unknown"} <= outcomes, outcomes  # the trigger URLs were really reached


def test_real_answers_match_the_document(fuzz_app: Flask) -> None:
    """Build now, then read, cancel and retry the real build: each answer as documented."""
    api = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)
    client = fuzz_app.test_client()
    token = {"Authorization": f"Bearer {API_TOKEN}"}
    created = client.post("/api/builds", json={"repository": "acme/webapp", "ref": "master"},
                          headers=token)
    assert created.status_code == 202, created.get_json()
    api["/api/builds"]["POST"].validate_response(created)
    build_id = created.get_json()["builds"][0]["id"]
    answers = [
        ("/api/builds", "GET", client.get("/api/builds")),
        ("/api/builds/{build_id}", "GET", client.get(f"/api/builds/{build_id}")),
        ("/api/builds/{build_id}/log", "GET", client.get(f"/api/builds/{build_id}/log")),
        ("/api/builds/{build_id}/retry", "POST",
         client.post(f"/api/builds/{build_id}/retry", headers=token)),
        ("/api/builds/{build_id}/cancel", "POST",
         client.post(f"/api/builds/{build_id}/cancel", headers=token)),
        ("/api/builds/{build_id}/retry", "POST",
         client.post(f"/api/builds/{build_id}/retry", headers=token)),
        ("/api/builds/{build_id}/cancel", "POST",
         client.post(f"/api/builds/{build_id}/cancel", headers=token)),
        ("/api/builds/{build_id}", "GET", client.get("/api/builds/nope")),
        ("/api/deliveries", "GET", client.get("/api/deliveries")),
        ("/api/queues", "GET", client.get("/api/queues")),
        ("/metrics", "GET", client.get("/metrics")),
        ("/badge/{target}", "GET", client.get("/badge/acme/webapp.svg")),
        ("/readyz", "GET", client.get("/readyz")),
    ]
    for path, method, response in answers:
        assert response.status_code < 500, (path, response.get_data(as_text=True))
        api[path][method].validate_response(response)
    assert [r.status_code for _, _, r in answers[3:7]] == [409, 202, 202, 409]
