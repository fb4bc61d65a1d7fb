"""Trigger URLs' pure parts: bodies, tokens, the repository a URL names, what a body selects."""

from __future__ import annotations

import pytest

from core.errors import TriggerBodyError
from core.events import RefKind
from core.rules import RuleSet
from core.rules_load import load_rules
from core.triggers import (
    Selection,
    TriggerRequest,
    find_by_token,
    image_path,
    log_body,
    parse_body,
    path_names,
    selections,
    source_id,
)

RULES = """\
repositories:
  - name: acme/webapp
    provider: github
    clone_url: https://github.com/acme/webapp.git
    insecure_no_secret: true
    image: registry.example.com/hub/webapp
    trigger_token: [first-token-0123456789, second-token-0123456789]
    rules:
      - {source_type: branch, source: main, tag: latest}
      - {source_type: tag, source: '/^v([0-9.]+)$/', tag: 'v{\\1},latest-release'}
  - name: acme/other
    provider: gitlab
    clone_url: https://gitlab.com/acme/other.git
    insecure_no_secret: true
    image: acme/other
    trigger_token: other-token-0123456789
"""


@pytest.fixture
def ruleset() -> RuleSet:
    return load_rules(RULES, environ={})


@pytest.mark.parametrize(("body", "content_type", "expected"), [
    pytest.param(b"", "", TriggerRequest(), id="empty"),
    pytest.param(b"build=true", "application/x-www-form-urlencoded", TriggerRequest(),
                 id="curl-data"),
    pytest.param(b'{"build": true}', "application/json", TriggerRequest(), id="json-build"),
    pytest.param(b'{"build": true}', "", TriggerRequest(), id="json-without-content-type"),
    pytest.param(b'{"docker_tag": "master"}', "application/json",
                 TriggerRequest(docker_tag="master"), id="docker-tag"),
    pytest.param(b'{"source_type": "Branch", "source_name": "staging"}', "application/json",
                 TriggerRequest(source_type=RefKind.BRANCH, source_name="staging"), id="branch"),
    pytest.param(b'{"source_type": "Tag", "source_name": "v1.1"}', "application/json",
                 TriggerRequest(source_type=RefKind.TAG, source_name="v1.1"), id="tag"),
    pytest.param(b"source_type=TAG&source_name=v2", "", TriggerRequest(
        source_type=RefKind.TAG, source_name="v2"), id="form-tag-upper-case"),
])
def test_docker_hubs_bodies(body: bytes, content_type: str, expected: TriggerRequest) -> None:
    assert parse_body(body, content_type) == expected


@pytest.mark.parametrize(("body", "status", "fragment"), [
    pytest.param(b"build=true&build=true", 400, "names a field twice", id="repeated"),
    pytest.param(b"please build", 400, "neither JSON nor a form", id="not-a-form"),
    pytest.param(b'{"docker_tag": ""}', 400, "docker_tag must be a non-empty string",
                 id="empty-tag"),
    pytest.param(b'{"docker_tag": 5}', 400, "docker_tag must be a non-empty string",
                 id="number-tag"),
    pytest.param(b'{"source_name": "x"}', 400, "source_name needs source_type",
                 id="name-without-type"),
    pytest.param(('{"docker_tag": "' + "x" * 300 + '"}').encode(), 400,
                 "longer than 255 characters", id="long-name"),
    pytest.param(b"x" * 4097, 413, "larger than 4096 bytes", id="too-large"),
])
def test_bodies_refused(body: bytes, status: int, fragment: str) -> None:
    with pytest.raises(TriggerBodyError) as raised:
        parse_body(body, "")
    assert raised.value.status == status and fragment in raised.value.message


def test_a_token_finds_its_repository_among_all(ruleset: RuleSet) -> None:
    webapp, other = ruleset.repositories
    assert find_by_token(ruleset, "first-token-0123456789") is webapp
    assert find_by_token(ruleset, "second-token-0123456789") is webapp
    assert find_by_token(ruleset, "other-token-0123456789") is other
    assert find_by_token(ruleset, "first-token-012345678") is None
    assert find_by_token(ruleset, "") is None


def test_the_path_must_name_the_tokens_repository(ruleset: RuleSet) -> None:
    webapp, other = ruleset.repositories
    assert path_names(webapp, name="acme/webapp") and path_names(webapp, name="hub/webapp")
    assert not path_names(webapp, name="acme/other") and not path_names(None, name="acme/webapp")
    assert path_names(other, name="acme/other")
    assert path_names(webapp, source=source_id(webapp))
    assert not path_names(webapp, source=source_id(other))
    assert not path_names(None, source=source_id(webapp))


def test_source_ids_are_stable_and_differ_by_provider(ruleset: RuleSet) -> None:
    webapp, other = ruleset.repositories
    assert source_id(webapp) == source_id(load_rules(RULES, environ={}).repositories[0])
    assert source_id(webapp) != source_id(other)
    assert len(source_id(webapp)) == 36


@pytest.mark.parametrize(("image", "path"), [
    ("registry.example.com/hub/webapp", "hub/webapp"), ("127.0.0.1:5000/a/b", "a/b"),
    ("docker.io/acme/app", "acme/app"), ("acme/app", "acme/app"), ("localhost/x/y", "x/y"),
])
def test_image_path(image: str, path: str) -> None:
    assert image_path(image) == path


def test_selections(ruleset: RuleSet) -> None:
    webapp = ruleset.repositories[0]
    assert selections(webapp, TriggerRequest()) == (
        [Selection("refs/heads/main", 0)],
        ["rule 2 (tag /^v([0-9.]+)$/ → v{\\1}, latest-release) has a regex source: name the "
         "branch or tag with source_type and source_name"])
    assert selections(webapp, TriggerRequest(docker_tag="latest")) == (
        [Selection("refs/heads/main", 0)], [])
    assert selections(webapp, TriggerRequest(source_type=RefKind.TAG, source_name="v1")) == (
        [Selection("refs/tags/v1")], [])
    chosen, (why,) = selections(webapp, TriggerRequest(docker_tag="edge"))
    assert chosen == [] and why == ("no rule has the Docker tag 'edge' (the rules' tags: "
                                    "latest, v{\\1}, latest-release)")


def test_logged_bodies_are_bounded_printable_and_token_free() -> None:
    assert log_body(b"build=true&t=first-token-0123456789", ["first-token-0123456789"]) == (
        "build=true&t=***")
    assert log_body(b"\xff\x00a", []) == "\ufffd?a"
    long = log_body(b"y" * 4000, [])
    assert len(long) == 501 and long.endswith("…")

