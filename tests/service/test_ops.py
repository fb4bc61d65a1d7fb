"""The operational endpoints: /healthz, /readyz, /metrics and the badges, through the real app."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update

from core.decision import DeliveryOutcome
from core.status import BuildStatus
from records.builds import BuildRecord, BuildStore
from records.schema import builds
from service.badges import render_badge
from service.health import docker_address, docker_ping
from tests.conftest import API_TOKEN, repo_yaml
from tests.factories import stored_build

REAL_REDIS = "redis://127.0.0.1:6379/13"
RULES = ("repositories:\n" + repo_yaml()
         + repo_yaml("group/sub/proj", provider="gitlab", image="127.0.0.1:5000/group/proj"))


def make_build(store: BuildStore, status: BuildStatus, *, repository: str = "acme/webapp",
               provider: str = "github", rule_index: int = 0, tag: str = "latest") -> BuildRecord:
    """A build of `repository` (on its own ref) moved through the allowed transitions."""
    image = "127.0.0.1:5000/" + repository
    return stored_build(store, status, repository=repository, provider=provider,
                        rule_index=rule_index, image=image, tags=(f"{image}:{tag}",))


def set_phases(store: BuildStore, build: BuildRecord, *seconds: float, ended: bool) -> None:
    """Give a build phases of these lengths (clone, build, push), then an end or the next one."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    marks = [start + timedelta(seconds=sum(seconds[:i])) for i in range(len(seconds) + 1)]
    names = ["started_at", "building_at", "pushing_at"]
    values: dict[str, datetime | None] = dict.fromkeys([*names, "finished_at"])
    values.update(zip(names, marks if not ended else marks[:-1], strict=False))
    if ended:
        values["finished_at"] = marks[-1]
    with store.engine.begin() as conn:
        conn.execute(update(builds).where(builds.c.id == build.id).values(**values))


@pytest.fixture
def ops_app(app_factory: Callable[..., Flask]) -> Flask:
    """An app with a GitHub repository and a GitLab one in a subgroup."""
    return app_factory(RULES)


@pytest.fixture
def store(ops_app: Flask) -> BuildStore:
    """The store of ops_app."""
    return ops_app.extensions["build_store"]  # type: ignore[no-any-return]


@pytest.mark.integration
def test_readyz_ok_on_the_real_stack(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(REDIS_URL=REAL_REDIS, BUILD_QUEUE=None)
    response = app.test_client().get("/readyz")
    assert response.get_json() == {"database": "ok", "redis": "ok", "docker": "ok"}
    assert response.status_code == 200


def test_healthz_is_up_and_readyz_without_redis_says_not_used(
    app_factory: Callable[..., Flask], tmp_path: Path
) -> None:
    client = app_factory(DOCKER_HOST=f"unix://{tmp_path}/missing.sock").test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}  # alive though not ready
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["redis"] == "not used"


@pytest.mark.integration
def test_readyz_503_names_docker_when_the_socket_is_missing(
    app_factory: Callable[..., Flask], tmp_path: Path
) -> None:
    app = app_factory(REDIS_URL=REAL_REDIS, BUILD_QUEUE=None,
                      DOCKER_HOST=f"unix://{tmp_path}/missing.sock")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"database": "ok", "redis": "ok",
                                   "docker": "unreachable: [Errno 2] No such file or directory"}


def test_readyz_503_names_redis_when_its_port_is_closed(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(REDIS_URL="redis://127.0.0.1:1/0", BUILD_QUEUE=None)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["redis"].startswith("unreachable: ") and "refused" in body["redis"].lower()


def answer_once(server: socket.socket, reply: bytes) -> None:
    """Accept one connection, read the request, send `reply` and close."""
    conn, _ = server.accept()
    with conn:
        conn.recv(1024)
        conn.sendall(reply)


@pytest.mark.parametrize(("reply", "verdict"), [
    (b"HTTP/1.1 200 OK\r\nApi-Version: 1.45\r\n\r\nOK", "ok"),
    (b"HTTP/1.0 500 Oops\r\n\r\noops", "unhealthy: GET /_ping answered 'HTTP/1.0 500 Oops'"),
    (b"", "unhealthy: GET /_ping answered ''"),
])
def test_docker_ping_over_a_unix_socket(tmp_path: Path, reply: bytes, verdict: str) -> None:
    path = str(tmp_path / "fake.sock")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        server.listen(1)
        thread = threading.Thread(target=answer_once, args=(server, reply))
        thread.start()
        assert docker_ping(path) == verdict
        thread.join(5)


def test_docker_address_is_the_socket_path_or_the_tcp_url() -> None:
    assert docker_address("unix:///run/d.sock") == "/run/d.sock"
    assert docker_address("tcp://h:2375") == "tcp://h:2375"


def test_docker_host_comes_from_the_settings(app_factory: Callable[..., Flask],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    assert app_factory().config["DOCKER_HOST"] == "unix:///var/run/docker.sock"
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    assert app_factory().config["DOCKER_HOST"] == "tcp://127.0.0.1:2375"
    assert docker_ping("ssh://me@host").startswith("unreachable: cannot check")


# metrics ------------------------------------------------------------------------------------


def test_metrics_counts_come_from_the_database(ops_app: Flask, store: BuildStore) -> None:
    for status in "queued queued cloning building pushing success success failed cancelled".split():
        make_build(store, BuildStatus(status))
    make_build(store, BuildStatus.FAILED, repository="group/sub/proj", provider="gitlab")
    make_build(store, BuildStatus.SUCCESS, repository='we"ird\\name')
    log = ops_app.extensions["delivery_log"]
    for forge, outcome in [("github", "queued")] * 2 + [("github", "rejected"),
                                                         ("gitlab", "ignored")]:
        log.record_delivery(forge=forge, delivery_id=None, event="push", repository=None, refs=[],
                            outcome=DeliveryOutcome(outcome), reason=None, status_code=202,
                            accepted=False)

    response = ops_app.test_client().get("/metrics")
    assert response.content_type.startswith("text/plain; version=0.0.4")
    text = response.get_data(as_text=True)
    assert {
        'autobuild_builds_total{status="success",repository="acme/webapp"} 2',
        'autobuild_builds_total{status="failed",repository="acme/webapp"} 1',
        'autobuild_builds_total{status="cancelled",repository="acme/webapp"} 1',
        'autobuild_builds_total{status="failed",repository="group/sub/proj"} 1',
        'autobuild_builds_total{status="success",repository="we\\"ird\\\\name"} 1',
        "autobuild_queue_depth 2",
        "autobuild_running_builds 3",
        'autobuild_webhook_deliveries_total{forge="github",outcome="queued"} 2',
        'autobuild_webhook_deliveries_total{forge="github",outcome="rejected"} 1',
        'autobuild_webhook_deliveries_total{forge="gitlab",outcome="ignored"} 1',
        "# TYPE autobuild_builds_total counter",
        "# TYPE autobuild_build_duration_seconds histogram",
        "# TYPE autobuild_queue_depth gauge",
    } <= set(text.splitlines())
    assert 'status="queued"' not in text  # in flight: gauges (a counter never goes down)
    assert text.count("\nautobuild_builds_total{") == 5


def test_metrics_duration_histogram_by_phase(ops_app: Flask, store: BuildStore) -> None:
    set_phases(store, make_build(store, BuildStatus.SUCCESS), 3, 40, 2, ended=True)
    set_phases(store, make_build(store, BuildStatus.SUCCESS), 5, 600, 95, ended=True)
    set_phases(store, make_build(store, BuildStatus.FAILED), 2, 6, ended=True)  # failed building
    set_phases(store, make_build(store, BuildStatus.BUILDING), 1, ended=False)  # still building
    make_build(store, BuildStatus.CANCELLED)  # never started: in no phase

    lines = ops_app.test_client().get("/metrics").get_data(as_text=True).splitlines()
    name = "autobuild_build_duration_seconds"
    expected = {
        "clone": ({"5": 4, "+Inf": 4}, 11),
        "build": ({"5": 0, "10": 1, "30": 1, "60": 2, "600": 3, "+Inf": 3}, 646),
        "push": ({"5": 1, "60": 1, "120": 2, "+Inf": 2}, 97),
        "total": ({"5": 0, "10": 1, "60": 2, "600": 2, "1200": 3, "+Inf": 3}, 753),
    }
    for phase, (buckets, total) in expected.items():
        for le, count in buckets.items():
            assert f'{name}_bucket{{phase="{phase}",le="{le}"}} {count}' in lines
        assert f'{name}_count{{phase="{phase}"}} {buckets["+Inf"]}' in lines
        assert f'{name}_sum{{phase="{phase}"}} {total}' in lines


# badges -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "word", "color"), [
    (BuildStatus.SUCCESS, "passing", "#4c1"),
    (BuildStatus.FAILED, "failing", "#e05d44"),
    (BuildStatus.TIMED_OUT, "failing", "#e05d44"),
    (BuildStatus.QUEUED, "building", "#dfb317"),
    (BuildStatus.CLONING, "building", "#dfb317"),
    (BuildStatus.BUILDING, "building", "#dfb317"),
    (BuildStatus.PUSHING, "building", "#dfb317"),
    (BuildStatus.CANCELLED, "unknown", "#9f9f9f"),
    (None, "unknown", "#9f9f9f"),
])
def test_repository_badge_shows_the_newest_build(
    ops_app: Flask, store: BuildStore, status: BuildStatus | None, word: str, color: str
) -> None:
    if status is not None:
        make_build(store, BuildStatus.SUCCESS)
        make_build(store, status)
    response = ops_app.test_client().get("/badge/acme/webapp.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Cache-Control"] == "no-cache, max-age=0"
    assert response.headers["ETag"]
    svg = response.get_data(as_text=True)
    assert svg.startswith("<svg ") and f">{word}</text>" in svg and f'fill="{color}"' in svg
    assert f'aria-label="build: {word}"' in svg


def test_badge_uses_the_first_rule_and_passes_over_skipped(ops_app: Flask,
                                                          store: BuildStore) -> None:
    make_build(store, BuildStatus.FAILED)
    make_build(store, BuildStatus.SUCCESS, rule_index=1)  # another rule: not this badge
    make_build(store, BuildStatus.SKIPPED)  # path filter said no: the failure still stands
    make_build(store, BuildStatus.SUPERSEDED)
    make_build(store, BuildStatus.SUCCESS, repository="other/repo")
    svg = ops_app.test_client().get("/badge/acme/webapp.svg").get_data(as_text=True)
    assert ">failing</text>" in svg


def test_tag_badge_and_subgroup_names(ops_app: Flask, store: BuildStore) -> None:
    make_build(store, BuildStatus.SUCCESS, tag="v1.2")
    make_build(store, BuildStatus.FAILED, tag="latest")
    make_build(store, BuildStatus.BUILDING, repository="group/sub/proj", provider="gitlab",
               tag="v1X0")
    client = ops_app.test_client()

    def word(path: str) -> str:
        response = client.get(path)
        assert response.status_code == 200, path
        found = re.findall(r'aria-label="build: (\w+)"', response.get_data(as_text=True))
        return found[0]

    assert word("/badge/acme/webapp/v1.2.svg") == "passing"
    assert word("/badge/acme/webapp/latest.svg") == "failing"
    assert word("/badge/acme/webapp/V1.2.svg") == "unknown"  # tags are case-sensitive
    assert word("/badge/acme/webapp/v1%2.svg") == "unknown"  # not a Docker tag
    assert word("/badge/group/sub/proj.svg") == "building"
    assert word("/badge/group/sub/proj/v1X0.svg") == "building"
    assert word("/badge/group/sub/proj/v1_0.svg") == "unknown"  # "_" is no wildcard
    assert word("/badge/nobody/here.svg") == "unknown"
    assert client.get("/badge/acme/webapp").status_code == 404


def test_badge_etag_gives_304(ops_app: Flask, store: BuildStore) -> None:
    make_build(store, BuildStatus.SUCCESS)
    client = ops_app.test_client()
    first = client.get("/badge/acme/webapp.svg")
    again = client.get("/badge/acme/webapp.svg", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    make_build(store, BuildStatus.QUEUED)
    changed = client.get("/badge/acme/webapp.svg",
                         headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]


def test_badge_text_is_escaped() -> None:
    svg = render_badge("<b>&", 'x"y', "#4c1")
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg and "x&quot;y" in svg


@pytest.mark.parametrize("path", ["/metrics", "/badge/acme/webapp.svg"])
def test_metrics_and_badges_follow_read_access(app_factory: Callable[..., Flask],
                                               path: str) -> None:
    client = app_factory(READ_ACCESS="login").test_client()
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": f"Bearer {API_TOKEN}"}).status_code == 200
    assert client.get("/healthz").status_code == 200
