"""Queues by capability on the web side: a build waiting on a queue nobody listens on says so
(page and API), and the dashboard and /api/queues show each queue's depth and live workers."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from core.status import BuildStatus
from records.builds import BuildStore
from tests.conftest import repo_yaml
from tests.factories import make_plan
from tests.fakes import FakeQueueWatch

ARM_RULES = ("      - source_type: branch\n        source: master\n        tag: latest\n"
             "      - source_type: branch\n        source: master\n        tag: arm\n"
             "        queue: arm64\n")


def make_app(app_factory: Callable[..., Flask], watch: FakeQueueWatch) -> Flask:
    return app_factory("repositories:\n" + repo_yaml(rules=ARM_RULES), QUEUE_WATCH=watch)


def store_of(app: Flask) -> BuildStore:
    return app.extensions["build_store"]  # type: ignore[no-any-return]


def test_a_build_on_a_queue_nobody_listens_on_says_so_in_the_api_and_on_its_page(
        app_factory: Callable[..., Flask]) -> None:
    watch = FakeQueueWatch({"builds": ["host-a"]}, depths={"arm64": 1})
    app = make_app(app_factory, watch)
    store = store_of(app)
    (arm,) = store.create_builds([make_plan(rule_index=1, queue="arm64",
                                            tags=("127.0.0.1:5000/acme/webapp:arm",))])
    (plain,) = store.create_builds([make_plan(ref="refs/heads/b2", commit="b" * 40)])
    client = app.test_client()

    answer = client.get(f"/api/builds/{arm.id}").get_json()
    assert (answer["queue"], answer["waiting_reason"]) == (
        "arm64", "no worker is listening on queue arm64")
    listed = {b["id"]: b for b in client.get("/api/builds").get_json()["builds"]}
    assert listed[plain.id]["queue"] == "builds"
    assert listed[plain.id]["waiting_reason"] is None  # host-a listens on builds
    assert listed[arm.id]["waiting_reason"] == "no worker is listening on queue arm64"

    page = client.get(f"/builds/{arm.id}").get_data(as_text=True)
    assert 'id="waiting-reason">Waiting: no worker is listening on queue arm64<' in page
    assert "waiting-reason" not in client.get(f"/builds/{plain.id}").get_data(as_text=True)

    store.set_status(arm.id, BuildStatus.CANCELLED)
    assert client.get(f"/api/builds/{arm.id}").get_json()["waiting_reason"] is None


def test_the_dashboard_and_the_api_show_each_queue_with_its_depth_and_live_workers(
        app_factory: Callable[..., Flask]) -> None:
    watch = FakeQueueWatch({"builds": ["host-a", "host-b"], "gpu": ["host-c"]},
                           depths={"builds": 3, "arm64": 2})
    app = make_app(app_factory, watch)
    (arm,) = store_of(app).create_builds([make_plan(rule_index=1, queue="arm64")])
    client = app.test_client()

    queues = client.get("/api/queues").get_json()["queues"]

    assert [(q["name"], q["depth"], [w["hostname"] for w in q["workers"]]) for q in queues] == [
        ("arm64", 2, []), ("builds", 3, ["host-a", "host-b"]), ("gpu", 0, ["host-c"])]
    assert watch.asked[-1] == ("arm64", "builds", "gpu")  # the rules' queues and the workers'
    page = client.get("/").get_data(as_text=True)
    section = page[page.index('<section id="queues">'):]
    assert 'data-queue="arm64"' in section and 'data-queue="gpu"' in section
    assert ('<td data-label="Waiting jobs" class="depth">3</td>' in section
            and "host-b (pid 101, idle)" in section)
    assert "none: no worker is listening on queue arm64" in section
    waiting = page[page.index('id="waiting"'):page.index('<section id="queues">')]
    assert arm.id in waiting and "waits: no worker is listening on queue arm64" in waiting


def test_without_redis_nothing_is_claimed_about_waiting_builds(
        app_factory: Callable[..., Flask]) -> None:
    app = make_app(app_factory, FakeQueueWatch(down=True))
    (arm,) = store_of(app).create_builds([make_plan(rule_index=1, queue="arm64")])
    client = app.test_client()

    assert client.get(f"/api/builds/{arm.id}").get_json()["waiting_reason"] is None
    answer = client.get("/api/queues")
    assert answer.status_code == 503
    assert answer.get_json() == {"error": "the queues cannot be read: Redis does not answer"}
    page = client.get("/").get_data(as_text=True)
    assert client.get("/").status_code == 200 and '<section id="queues">' not in page


def test_metrics_give_each_queue_its_waiting_jobs_and_live_workers(
        app_factory: Callable[..., Flask]) -> None:
    watch = FakeQueueWatch({"builds": ["host-a", "host-b"]}, depths={"arm64": 4})
    text = make_app(app_factory, watch).test_client().get("/metrics").get_data(as_text=True)

    assert 'autobuild_queue_jobs{queue="arm64"} 4\n' in text
    assert 'autobuild_queue_jobs{queue="builds"} 0\n' in text
    assert 'autobuild_queue_workers{queue="arm64"} 0\n' in text
    assert 'autobuild_queue_workers{queue="builds"} 2\n' in text
