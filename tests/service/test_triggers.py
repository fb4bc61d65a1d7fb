"""Docker Hub trigger URLs against a real local git repository: bodies, both URL shapes,
wrong and rotated tokens, nothing matching, the trigger log, and what a token cannot do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.triggers import source_id
from service.access_log import redact_path
from tests.conftest import commit_files, git, make_repo, repo_yaml
from tests.fakes import RecordingQueue

TOKEN = "current-trigger-token-0123456789"
OLD_TOKEN = "old-trigger-token-abcdefghijkl"
IMAGE = "127.0.0.1:5000/hubns/webapp-image"
RULES = """\
      - {source_type: Branch, source: master, tag: latest}
      - {source_type: Branch, source: develop, tag: dev}
      - {source_type: Tag, source: '/^v([0-9.]+)$/', tag: 'v{\\1}'}
      - {source_type: Branch, source: '/^release-/', tag: '{sourceref}'}
"""


@pytest.fixture
def repo(tmp_path: Path) -> dict[str, str]:
    """A bare repository with master, develop, release-2 and the tag v1.1, each its own commit."""
    bare, master = make_repo(tmp_path / "source", {"Dockerfile": "FROM scratch\n"},
                             branch="master")
    work = tmp_path / "source" / "work"
    heads = {"master": master}
    for branch in ("develop", "release-2"):
        git("checkout", "-q", "-b", branch, "master", cwd=work)
        heads[branch] = commit_files(work, {"branch.txt": branch}, f"On {branch}")
        git("push", "-q", "origin", branch, cwd=work)
    git("tag", "v1.1", heads["develop"], cwd=work)
    git("push", "-q", "origin", "v1.1", cwd=work)
    return {"url": f"file://{bare}", **heads}


@pytest.fixture
def make_app(app_factory: Callable[..., Flask], repo: dict[str, str]) -> Callable[..., Flask]:
    def make(tokens: str = f"[{OLD_TOKEN}, {TOKEN}]", **config: Any) -> Flask:
        text = repo_yaml(clone_url=repo["url"], rules=RULES, image=IMAGE).replace(
            "    rules:\n", f"    trigger_token: {tokens}\n    rules:\n")
        return app_factory("repositories:\n" + text, **config)
    return make


@pytest.fixture
def client(make_app: Callable[..., Flask]) -> FlaskClient:
    return make_app().test_client()


def classic(token: str = TOKEN, name: str = "acme/webapp") -> str:
    return f"/u/{name}/trigger/{token}/"


def new_style(app: Flask, token: str = TOKEN) -> str:
    repo = app.extensions["rules"].rules.repositories[0]
    return f"/api/build/v1/source/{source_id(repo)}/trigger/{token}/call/"


def built(response: Any) -> list[tuple[str, int, str, str]]:
    """(ref, rule index, commit, trigger) of each build in a 202 answer."""
    assert response.status_code == 202, response.get_json()
    return [(b["ref"], b["rule_index"], b["commit"], b["trigger"])
            for b in response.get_json()["builds"]]


@pytest.mark.parametrize(("kwargs", "expected"), [
    pytest.param({"json": {"build": True}}, [("refs/heads/master", 0), ("refs/heads/develop", 1)],
                 id="build-true-json"),
    pytest.param({"data": "build=true"}, [("refs/heads/master", 0), ("refs/heads/develop", 1)],
                 id="build-true-form"),
    pytest.param({}, [("refs/heads/master", 0), ("refs/heads/develop", 1)], id="empty-body"),
    pytest.param({"json": {"docker_tag": "dev"}}, [("refs/heads/develop", 1)], id="docker-tag"),
    pytest.param({"json": {"source_type": "Branch", "source_name": "master"}},
                 [("refs/heads/master", 0)], id="branch"),
    pytest.param({"json": {"source_type": "Tag", "source_name": "v1.1"}},
                 [("refs/tags/v1.1", 2)], id="tag-through-a-regex-rule"),
    pytest.param({"data": "source_type=branch&source_name=release-2"},
                 [("refs/heads/release-2", 3)], id="branch-form-lowercase"),
])
@pytest.mark.parametrize("shape", ["classic", "source"])
def test_each_body_builds_what_docker_hub_built(
    make_app: Callable[..., Flask], repo: dict[str, str], queue: RecordingQueue,
    shape: str, kwargs: dict[str, Any], expected: list[tuple[str, int]],
) -> None:
    app = make_app()
    url = classic() if shape == "classic" else new_style(app)

    answer = app.test_client().post(url, **kwargs)

    heads = {"refs/heads/master": repo["master"], "refs/heads/develop": repo["develop"],
             "refs/heads/release-2": repo["release-2"], "refs/tags/v1.1": repo["develop"]}
    assert built(answer) == [(ref, rule, heads[ref], "trigger") for ref, rule in expected]
    assert queue.enqueued == [b["id"] for b in answer.get_json()["builds"]]
    (call,) = app.test_client().get("/api/triggers").get_json()["triggers"]
    assert (call["repository"], call["outcome"], call["status_code"], call["url_shape"]) == (
        "acme/webapp", "queued", 202, shape)
    assert call["build_ids"] == [b["id"] for b in answer.get_json()["builds"]]
    assert call["client"] == "127.0.0.1"


def test_build_true_says_which_regex_rules_it_left_out(client: FlaskClient) -> None:
    answer = client.post(classic(), json={"build": True})
    assert "rule 3 (tag /^v([0-9.]+)$/ → v{\\1}) has a regex source" in (
        answer.get_json()["not_built"])


def test_the_image_name_names_the_repository_too(client: FlaskClient) -> None:
    """Old Docker Hub URLs name the image (`/u/<namespace>/<image>/`): only the host changes."""
    assert built(client.post(classic(name="acme/webapp"), data="build=true"))
    assert built(client.post(classic(name="hubns/webapp-image"), data="build=true"))
    assert client.post(classic(name="hubns/other"), data="build=true").status_code == 404


@pytest.mark.parametrize("url", [
    pytest.param(classic(token="wrong-token-0123456789abcdef"), id="wrong-token"),
    pytest.param(classic(name="acme/other"), id="right-token-wrong-repository"),
    pytest.param("/api/build/v1/source/00000000-0000-0000-0000-000000000000/trigger/"
                 f"{TOKEN}/call/", id="right-token-wrong-source-id"),
])
def test_unknown_calls_get_one_answer_and_no_hint(client: FlaskClient, queue: RecordingQueue,
                                                 url: str) -> None:
    answer = client.post(url, data="build=true")
    assert answer.status_code == 404
    assert answer.get_json() == {"error": "no such trigger URL: check the token and the "
                                          "repository part of the URL"}
    assert queue.enqueued == []
    (call,) = client.get("/api/triggers").get_json()["triggers"]
    assert (call["repository"], call["outcome"], call["body"]) == (None, "unknown", "build=true")


def test_rotation_both_tokens_then_only_the_new_one(make_app: Callable[..., Flask]) -> None:
    both = make_app().test_client()
    assert built(both.post(classic(OLD_TOKEN), data="build=true"))
    assert built(both.post(classic(TOKEN), data="build=true"))
    rotated = make_app(tokens=TOKEN).test_client()
    assert rotated.post(classic(OLD_TOKEN), data="build=true").status_code == 404
    assert built(rotated.post(classic(TOKEN), data="build=true"))


@pytest.mark.parametrize(("body", "fragment"), [
    pytest.param({"docker_tag": "nightly"}, "no rule has the Docker tag 'nightly' (the rules' "
                 "tags: latest, dev, v{\\1}, {sourceref})", id="unknown-docker-tag"),
    pytest.param({"source_type": "Branch", "source_name": "feature"},
                 "no refs/heads/feature in the repository", id="no-such-branch"),
    pytest.param({"source_type": "Tag", "source_name": "master"},
                 "no refs/tags/master in the repository", id="branch-name-as-tag"),
    pytest.param({"docker_tag": "v{\\1}"}, "rule 3 (tag /^v([0-9.]+)$/ → v{\\1}) has a regex "
                 "source", id="docker-tag-of-a-regex-rule"),
])
def test_nothing_matching_is_422_saying_why(client: FlaskClient, queue: RecordingQueue,
                                            body: dict[str, Any], fragment: str) -> None:
    answer = client.post(classic(), json=body)
    assert answer.status_code == 422
    assert fragment in answer.get_json()["error"], answer.get_json()
    assert queue.enqueued == []
    (call,) = client.get("/api/triggers").get_json()["triggers"]
    assert call["outcome"] == "not_built" and fragment in call["reason"]


def test_a_branch_no_rule_matches_is_422(repo: dict[str, str], client: FlaskClient,
                                         tmp_path: Path) -> None:
    work = tmp_path / "source" / "work"
    git("checkout", "-q", "-b", "feature", "master", cwd=work)
    git("push", "-q", "origin", "feature", cwd=work)
    answer = client.post(classic(), json={"source_type": "Branch", "source_name": "feature"})
    assert answer.status_code == 422
    assert "no rule builds refs/heads/feature" in answer.get_json()["error"]


@pytest.mark.parametrize(("kwargs", "status", "fragment"), [
    pytest.param({"data": "{not json", "content_type": "application/json"}, 400,
                 "the body is not valid JSON", id="bad-json"),
    pytest.param({"json": ["build"]}, 400, "the JSON body must be an object", id="json-list"),
    pytest.param({"json": {"build": False}}, 400, "build must be true", id="build-false"),
    pytest.param({"json": {"tag": "latest"}}, 400, "unknown field 'tag'", id="unknown-field"),
    pytest.param({"json": {"build": True, "docker_tag": "dev"}}, 400, "give exactly one of",
                 id="two-shapes"),
    pytest.param({"json": {"source_type": "Commit", "source_name": "x"}}, 400,
                 "source_type must be Branch or Tag, not 'Commit'", id="bad-source-type"),
    pytest.param({"json": {"source_type": "Tag"}}, 400, "source_type needs source_name",
                 id="no-source-name"),
    pytest.param({"data": b"\xff\xfe"}, 400, "not UTF-8", id="not-utf8"),
    pytest.param({"data": "x" * 5000}, 413, "larger than 4096 bytes", id="too-large"),
])
def test_bad_bodies_are_refused_naming_the_problem(client: FlaskClient, queue: RecordingQueue,
                                                   kwargs: dict[str, Any], status: int,
                                                   fragment: str) -> None:
    answer = client.post(classic(), **kwargs)
    assert answer.status_code == status
    assert fragment in answer.get_json()["error"]
    assert queue.enqueued == []
    (call,) = client.get("/api/triggers").get_json()["triggers"]
    assert call["outcome"] == "invalid" and len(call["body"]) <= 501


def test_the_log_never_keeps_a_token(client: FlaskClient) -> None:
    client.post(classic(), data=f"build=true&note={OLD_TOKEN}")
    client.post(classic(token="wrong-token-0123456789abcdef"),
                data="x=wrong-token-0123456789abcdef")
    client.post(classic(token="wrong-token-0123456789abcdef"), data=f"y={TOKEN}")
    bodies = [c["body"] for c in client.get("/api/triggers").get_json()["triggers"]]
    assert bodies == ["y=***", "x=***", "build=true&note=***"]


def test_a_trigger_token_is_not_an_api_token(client: FlaskClient) -> None:
    for token in (TOKEN, OLD_TOKEN):
        answer = client.post("/api/builds", json={"repository": "acme/webapp", "ref": "master"},
                             headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401


def test_client_address_follows_the_proxy_setting(make_app: Callable[..., Flask]) -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.7"}
    direct = make_app().test_client()
    direct.post(classic(), data="build=true", headers=forwarded)
    proxied = make_app(TRUSTED_PROXIES=1).test_client()
    proxied.post(classic(), data="build=true", headers=forwarded)
    clients = [c["client"] for c in proxied.get("/api/triggers").get_json()["triggers"]]
    assert clients == ["203.0.113.7", "127.0.0.1"]


def test_repository_page_shows_the_urls_and_the_last_ten_calls(
    client: FlaskClient, make_app: Callable[..., Flask],
) -> None:
    for number in range(12):
        client.post(classic(), json={"docker_tag": f"nope-{number}"})
    page = client.get("/repos/acme/webapp").get_data(as_text=True)
    repo = client.application.extensions["rules"].rules.repositories[0]
    assert f"/api/build/v1/source/{source_id(repo)}/trigger/&lt;token&gt;/call/" in page
    assert "/u/acme/webapp/trigger/&lt;token&gt;/" in page
    assert TOKEN not in page and OLD_TOKEN not in page
    assert "Last 10 trigger calls" in page
    assert "nope-11" in page and "nope-2" in page and "nope-1&#34;" not in page
    assert page.count("not built") == 10
    api = client.get("/api/triggers?limit=5&offset=10&repository=acme/webapp").get_json()
    assert [c["body"] for c in api["triggers"]] == ['{"docker_tag": "nope-1"}',
                                                    '{"docker_tag": "nope-0"}']


def test_access_log_paths_lose_their_tokens() -> None:
    assert redact_path("POST /u/acme/webapp/trigger/s3cr3t-token/ HTTP/1.1") == (
        "POST /u/acme/webapp/trigger/***/ HTTP/1.1")
    assert redact_path("/api/build/v1/source/abc/trigger/s3cr3t-token/call/") == (
        "/api/build/v1/source/abc/trigger/***/call/")
    assert redact_path("GET /api/builds HTTP/1.1") == "GET /api/builds HTTP/1.1"
