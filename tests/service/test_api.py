"""The JSON API's own answers: filters, paging, validation, and the refusals."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.plan import BuildPlan
from core.status import BuildStatus
from records.builds import BuildStore
from tests.conftest import API_TOKEN
from tests.factories import make_plan
from tests.fakes import RecordingQueue

pytestmark = pytest.mark.both_databases

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def plan(number: int, **changes: object) -> BuildPlan:
    """Plan number `number`: its own ref and commit, so plans never supersede each other."""
    return make_plan(ref=f"refs/heads/b{number}", commit=f"{number:040x}", **changes)


@pytest.fixture
def store(app: Flask) -> BuildStore:
    return app.extensions["build_store"]  # type: ignore[no-any-return]


def test_list_filters_and_pages_newest_first(client: FlaskClient, store: BuildStore) -> None:
    ids = [store.create_builds([plan(n)])[0].id for n in range(5)]
    store.set_status(ids[1], BuildStatus.CANCELLED)
    listed = client.get("/api/builds").get_json()["builds"]
    assert [b["id"] for b in listed] == ids[::-1]
    page = client.get("/api/builds?limit=2&offset=1").get_json()["builds"]
    assert [b["id"] for b in page] == [ids[3], ids[2]]
    cancelled = client.get("/api/builds?status=cancelled").get_json()["builds"]
    assert [b["id"] for b in cancelled] == [ids[1]]
    by_ref = client.get("/api/builds?ref=refs/heads/b3").get_json()["builds"]
    assert [b["id"] for b in by_ref] == [ids[3]]
    assert client.get("/api/builds?repository=other/repo").get_json()["builds"] == []
    assert len(client.get("/api/builds?limit=nonsense").get_json()["builds"]) == 5


def test_unknown_build_is_404_everywhere(client: FlaskClient) -> None:
    for method, url in (("get", "/api/builds/nope"), ("get", "/api/builds/nope/log"),
                        ("post", "/api/builds/nope/cancel"), ("post", "/api/builds/nope/retry")):
        response = getattr(client, method)(url, headers=AUTH)
        assert response.status_code == 404, url
        assert "nope" in response.get_json()["error"]


@pytest.mark.parametrize(("body", "status"), [
    pytest.param(None, 400, id="no-json"),
    pytest.param([], 400, id="not-an-object"),
    pytest.param({"repository": "acme/webapp"}, 400, id="no-ref"),
    pytest.param({"repository": "", "ref": "main"}, 400, id="empty-repository"),
    pytest.param({"repository": "acme/webapp", "ref": "main", "rule_index": "0"}, 400,
                 id="rule-index-not-a-number"),
    pytest.param({"repository": "acme/webapp", "ref": "--upload-pack=/tmp/x"}, 422,
                 id="option-like-ref"),
    pytest.param({"repository": "acme/webapp", "ref": "ma\x01in"}, 422, id="control-character"),
    pytest.param({"repository": "nobody/nothing", "ref": "main"}, 404, id="unknown-repository"),
])
def test_build_now_validates_its_input(client: FlaskClient, queue: RecordingQueue,
                                       body: object, status: int) -> None:
    response = client.post("/api/builds", json=body, headers=AUTH)
    assert response.status_code == status
    assert response.get_json()["error"]
    assert queue.enqueued == []


def test_cancel_and_retry_answer_409_in_the_wrong_state(
    client: FlaskClient, store: BuildStore, queue: RecordingQueue
) -> None:
    (build,) = store.create_builds([make_plan(commit=f"{1:040x}")])
    assert client.post(f"/api/builds/{build.id}/retry", headers=AUTH).status_code == 409
    cancelled = client.post(f"/api/builds/{build.id}/cancel", headers=AUTH)
    assert cancelled.status_code == 202 and cancelled.get_json()["status"] == "cancelled"
    assert queue.discarded == [build.id]
    assert client.post(f"/api/builds/{build.id}/cancel", headers=AUTH).status_code == 409
    retried = client.post(f"/api/builds/{build.id}/retry", headers=AUTH)
    assert retried.status_code == 202
    (new,) = retried.get_json()["builds"]
    assert new["trigger"] == "retry" and new["commit"] == build.commit
    assert queue.enqueued == [new["id"]]


@pytest.mark.parametrize("url", ["/api/builds", "/api/builds/x/cancel", "/api/builds/x/retry"])
def test_actions_need_the_token(client: FlaskClient, url: str) -> None:
    response = client.post(url, json={})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_login_read_access_closes_the_api(app_factory: Callable[..., Flask]) -> None:
    client = app_factory(READ_ACCESS="login").test_client()
    response = client.get("/api/builds")
    assert response.status_code == 401 and "login" in response.get_json()["error"]
    assert client.get("/api/builds", headers=AUTH).status_code == 200


def test_retry_is_planned_from_the_rules_in_force(app_factory: Callable[..., Flask],
                                                 queue: RecordingQueue) -> None:
    """A removed repository or rule refuses the Retry; a changed one retries with the new
    image, never the stale plan's."""
    app = app_factory()
    store: BuildStore = app.extensions["build_store"]
    client = app.test_client()
    stale = make_plan(image="127.0.0.1:5000/old/place", tags=("127.0.0.1:5000/old/place:latest",),
                      clone_url="https://old.example.com/acme/webapp.git")
    (build,) = store.create_builds([stale])
    store.set_status(build.id, BuildStatus.CANCELLED)

    response = client.post(f"/api/builds/{build.id}/retry", headers=AUTH)

    assert response.status_code == 202, response.get_json()
    (new,) = response.get_json()["builds"]
    assert new["tags"] == ["127.0.0.1:5000/acme/webapp:latest"]
    retried = store.get_build(new["id"])
    assert retried is not None and retried.plan.clone_url == "file:///nonexistent/repo.git"
    assert "The rules changed since build" in store.get_log(new["id"])

    (other_rule,) = store.create_builds([make_plan(rule_index=7)])
    store.set_status(other_rule.id, BuildStatus.CANCELLED)
    refused = client.post(f"/api/builds/{other_rule.id}/retry", headers=AUTH)
    assert refused.status_code == 409
    assert "no longer build refs/heads/master with that rule" in refused.get_json()["error"]
    (gone,) = store.create_builds([make_plan(repository="acme/removed")])
    store.set_status(gone.id, BuildStatus.CANCELLED)
    refused = client.post(f"/api/builds/{gone.id}/retry", headers=AUTH)
    assert refused.status_code == 409
    assert refused.get_json()["error"] == ("acme/removed is no longer configured for github; "
                                           "there is nothing to retry")
