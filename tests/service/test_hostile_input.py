"""Odd and hostile input gets a 4xx (or a sane default), never a 500, and never a build
without a valid signature: odd query numbers, lone surrogates, and fuzzed webhooks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.signatures import sign_bitbucket, sign_gitea, sign_github
from tests.conftest import API_TOKEN, SECRET, repo_yaml
from tests.fakes import RecordingQueue

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture
def hostile_app(app_factory: Callable[..., Flask]) -> Flask:
    """GitHub, Gitea, GitLab and Bitbucket repositories named like the real payloads."""
    return app_factory("repositories:\n" + "".join(
        repo_yaml(name, provider=provider) for name, provider in (
            ("Codertocat/Hello-World", "github"), ("gogits/hello-world", "gitea"),
            ("mike/diaspora", "gitlab"), ("cloudbeers/temp", "bitbucket"))))


@pytest.mark.parametrize("url", [
    pytest.param("/?page=%C2%B2", id="superscript-page"),
    pytest.param("/repos/Codertocat/Hello-World?page=%C2%B2", id="repository-superscript"),
    pytest.param("/repos/Codertocat/Hello-World?page=" + "9" * 30, id="repository-huge-page"),
    pytest.param("/deliveries?page=" + "9" * 30, id="deliveries-huge-page"),
    pytest.param("/api/builds?offset=" + "9" * 30, id="api-huge-offset"),
    pytest.param("/api/builds?limit=" + "9" * 30, id="api-huge-limit"),
    pytest.param("/api/deliveries?offset=-" + "9" * 30, id="api-negative-offset"),
    pytest.param("/api/builds?repository=%ED%A0%80", id="invalid-utf8-filter"),
    pytest.param("/repos/acme/%ED%A0%80", id="invalid-utf8-repository"),
    pytest.param("/builds/x/events?after=%C2%B2", id="superscript-after"),
])
def test_odd_query_input_is_never_a_server_error(hostile_app: Flask, url: str) -> None:
    response = hostile_app.test_client().get(url)
    assert response.status_code in (200, 404), (response.status_code, url)


@pytest.mark.parametrize("body", [
    pytest.param({"repository": "acme/\ud800", "ref": "main"}, id="surrogate-repository"),
    pytest.param({"repository": "Codertocat/Hello-World", "ref": "ma\udfffin"},
                 id="surrogate-ref"),
    pytest.param({"repository": "Codertocat/Hello-World", "ref": "main",
                  "rule_index": 10**40}, id="huge-rule-index"),
])
def test_odd_build_now_bodies_are_4xx(hostile_app: Flask, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()  # json escapes the surrogates as \\ud800
    response = hostile_app.test_client().post("/api/builds", data=raw, headers={
        **AUTH, "Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, response.get_json()


def test_a_push_naming_a_lone_surrogate_is_refused_400(hostile_app: Flask,
                                                      queue: RecordingQueue) -> None:
    body = b'{"ref": "refs/heads/master", "repository": {"full_name": "acme/\\ud800"}}'
    response = hostile_app.test_client().post("/hooks/github", data=body, headers={
        "X-GitHub-Event": "push", "X-GitHub-Delivery": "s-1",
        "X-Hub-Signature-256": sign_github(body, SECRET), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "lone surrogate" in response.get_json()["error"] and queue.enqueued == []


HEADER_NAMES = ["X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256", "X-Gitea-Event",
                "X-Gitea-Signature", "X-Gitlab-Event", "X-Gitlab-Token", "Idempotency-Key",
                "X-Event-Key", "X-Hub-Signature", "X-Request-UUID", "Content-Type"]
EVENTS = ["push", "ping", "Push Hook", "Tag Push Hook", "repo:push", "repo:refs_changed",
          "diagnostics:ping", "", "\u00e9v\u00e9nement"]
JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**40),
                                                              max_value=10**40),
                        st.text(max_size=30), st.just("\ud800"), st.just("0" * 40))
JSON = st.recursive(JSON_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(
        st.sampled_from(["ref", "before", "after", "repository", "full_name", "project",
                         "path_with_namespace", "push", "changes", "new", "old", "commits",
                         "head_commit", "id", "name", "type", "target", "hash", "zen",
                         "object_kind", "checkout_sha"]), inner, max_size=6)), max_leaves=20)
BODIES = st.one_of(st.binary(max_size=300), JSON.map(lambda v: json.dumps(v).encode()),
                   st.just(b'{"ref": "refs/heads/master", "repository": {"full_name": '
                           b'"Codertocat/Hello-World"}, "after": "' + b"1" * 40 + b'"}'))


def signed_headers(forge: str, body: bytes) -> dict[str, str]:
    """Valid signatures over whatever the body is, for every forge."""
    return {"X-Hub-Signature-256": sign_github(body, SECRET),
            "X-Gitea-Signature": sign_gitea(body, SECRET),
            "X-Hub-Signature": sign_bitbucket(body, SECRET), "X-Gitlab-Token": SECRET}


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(forge=st.sampled_from(["github", "gitea", "gitlab", "bitbucket", "nosuch"]),
       body=BODIES, sign=st.booleans(), event=st.sampled_from(EVENTS),
       extra=st.dictionaries(st.sampled_from(HEADER_NAMES),
                             st.text(st.characters(max_codepoint=255, exclude_characters="\r\n"),
                                     max_size=40),
                             max_size=4))
def test_fuzzed_webhooks_never_fail_the_server_or_build_unsigned(
    hostile_app: Flask, queue: RecordingQueue, forge: str, body: bytes, sign: bool,
    event: str, extra: dict[str, str],
) -> None:
    before = len(queue.enqueued)
    headers = {"X-GitHub-Event": event, "X-Gitea-Event": event, "X-Gitlab-Event": event,
               "X-Event-Key": event, "Content-Type": "application/json", **extra}
    if sign:
        headers.update(signed_headers(forge, body))
    response = hostile_app.test_client().post(f"/hooks/{forge}", data=body, headers=headers)
    assert response.status_code < 500
    assert response.is_json
    if not sign or forge == "nosuch":
        assert len(queue.enqueued) == before, "a build without a valid signature"
