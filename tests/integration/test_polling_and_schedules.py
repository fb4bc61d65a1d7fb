"""Polling registries that send no notifications, and rebuild schedules, on the real stack: the
scheduler process (`python -m service.scheduler`) polling with a short interval, rounds with an
injected clock for rate limits and schedules, real registries, engine and worker."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docker
import pytest

from core.image_refs import canonical
from core.schedule import next_run
from records.periodic import base_checks_of
from service.registry_client import ManifestAnswer, RegistryClient
from service.scheduler import run_once
from tests.integration.conftest import (
    BUILD_DEADLINE,
    REGISTRY,
    REGISTRY_PASSWORD,
    REGISTRY_USER,
    main_rule,
    rules_for,
    unique_image,
    wait_for_build,
)
from tests.integration.rebuild_support import push_base, start_registry, stop_registry, web_app
from tests.integration.test_base_rebuilds import build_now, entry, rebuilds, rebuilt

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def quiet_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A registry on its own port that sends no notifications (like Docker Hub)."""
    address, handle = start_registry(tmp_path_factory.mktemp("quiet-registry"))
    yield address
    stop_registry(handle)


class CountingClient(RegistryClient):
    """The real registry client, counting the HEADs it sends per reference."""

    def __init__(self) -> None:
        super().__init__()
        self.heads: list[str] = []

    def head(self, reference: str, *, login: tuple[str, str] | None = None) -> ManifestAnswer:
        self.heads.append(reference)
        return super().head(reference, login=login)


def test_the_scheduler_polls_and_rebuilds_when_a_base_moved(
        worker: object, worker_env: dict[str, str], tmp_path: Path, quiet_registry: str,
        source_repo: Callable[..., tuple[Path, str]], docker_client: docker.DockerClient,
) -> None:
    base = f"{quiet_registry}/poll-{uuid.uuid4().hex[:8]}/base:latest"
    first_base = push_base(docker_client, base)
    bare, _ = source_repo({"Dockerfile": f"FROM {base}\nCOPY marker.txt /polled\n"})
    rules = tmp_path / "rules.yaml"
    app = web_app(worker_env, rules)
    rules.write_text("repositories:\n" + entry(
        "it/polled", bare, f"{quiet_registry}/polled/app", rebuild="{check_every: 1s}"))
    client = app.test_client()
    first = build_now(client, "it/polled")
    log = open(tmp_path / "scheduler.log", "wb")  # noqa: SIM115 - closed below
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "service.scheduler"], stdout=log, stderr=subprocess.STDOUT,
        env={**worker_env, "AUTOBUILD_RULES": str(rules), "AUTOBUILD_SCHEDULER_INTERVAL": "1"},
        cwd=Path(__file__).resolve().parents[2])
    try:
        new_base = push_base(docker_client, base)
        rebuild = rebuilt(client, "it/polled")
    finally:
        scheduler.send_signal(signal.SIGTERM)
        code = scheduler.wait(timeout=30)
        log.close()

    assert code == 0, (tmp_path / "scheduler.log").read_text()
    assert rebuild["status"] == "success", rebuild["error"]
    assert rebuild["reason"] == (f"base image {base} changed from {first_base} to {new_base} "
                                 "(found by polling the registry)")
    assert rebuild["bases"] == [{"reference": base, "digest": new_base}]
    assert rebuild["commit"] == first["commit"]
    assert len(rebuilds(client, "it/polled")) == 1
    checks = base_checks_of(app.extensions["build_store"].engine, [canonical(base)])
    assert checks[canonical(base)].digest == new_base
    page = client.get("/repos/it/polled").get_data(as_text=True)
    assert "polled every 1s" in page and "checked" in page


def test_one_head_per_distinct_base_per_interval_whatever_the_rules(
        worker: object, worker_env: dict[str, str], tmp_path: Path, quiet_registry: str,
        source_repo: Callable[..., tuple[Path, str]], docker_client: docker.DockerClient,
) -> None:
    """Two repositories on one base, polled every 6h and every 1h: one HEAD per interval."""
    base = f"{quiet_registry}/shared-{uuid.uuid4().hex[:8]}/base:latest"
    push_base(docker_client, base)
    bare, _ = source_repo({"Dockerfile": f"FROM {base}\n"})
    app = web_app(worker_env, tmp_path / "rules.yaml")
    (tmp_path / "rules.yaml").write_text("repositories:\n" + "".join(
        entry(f"it/shared-{n}", bare, f"{quiet_registry}/shared/{n}",
              rebuild=f"{{check_every: {every}}}") for n, every in (("a", "6h"), ("b", "1h"))))
    client = app.test_client()
    for name in ("it/shared-a", "it/shared-b"):
        build_now(client, name)
    counting = CountingClient()
    start = datetime.now(UTC)

    rounds = [run_once(app, now=start + timedelta(minutes=minutes), client=counting)
              for minutes in (0, 1, 30, 61, 62)]

    assert counting.heads == [canonical(base)] * 2  # at 0 and after the shorter interval
    assert all(r.polled == [] for r in rounds)  # the base did not move
    check = base_checks_of(app.extensions["build_store"].engine, [canonical(base)])
    assert check[canonical(base)].outcome == "unchanged"
    assert check[canonical(base)].next_check_at == start + timedelta(minutes=121)


def test_polling_a_private_registry_logs_in_with_pull_auth(
        private_registry: str, docker_client: docker.DockerClient) -> None:
    repository = f"{private_registry}/base/busybox"
    tag = uuid.uuid4().hex[:12]
    docker_client.images.get("local/busybox:latest").tag(repository, tag)
    login = {"username": REGISTRY_USER, "password": REGISTRY_PASSWORD}
    pushed = ""
    for chunk in docker_client.api.push(repository, tag, stream=True, decode=True,
                                        auth_config=login):
        assert "error" not in chunk, chunk
        pushed = chunk.get("aux", {}).get("Digest", pushed)
    client = RegistryClient()

    with_login = client.head(f"{repository}:{tag}", login=(REGISTRY_USER, REGISTRY_PASSWORD))
    without = client.head(f"{repository}:{tag}")
    wrong = client.head(f"{repository}:{tag}", login=(REGISTRY_USER, "not-the-password"))

    assert with_login == ManifestAnswer(digest=pushed)
    assert (without.digest, without.status) == (None, 401)
    assert without.message == "the registry asks for a login (401): set pull_auth for it"
    assert (wrong.digest, wrong.status, wrong.message) == (
        None, 401, "the registry refused the pull_auth login (401)")


def test_a_schedule_made_due_by_the_clock_rebuilds_with_fresh_bases(
        worker: object, worker_env: dict[str, str], tmp_path: Path,
        source_repo: Callable[..., tuple[Path, str]]) -> None:
    base = f"{REGISTRY}/local/busybox:latest"
    bare, head = source_repo({"Dockerfile": f"FROM {base}\nCOPY marker.txt /scheduled\n"})
    name = f"it/scheduled-{uuid.uuid4().hex[:6]}"
    app = web_app(worker_env, tmp_path / "rules.yaml")
    rule = main_rule(rebuild='{schedule: "0 4 * * 1", timezone: Europe/Berlin}')
    (tmp_path / "rules.yaml").write_text(rules_for(name, f"file://{bare}",
                                                   unique_image("scheduled"), rule))
    client = app.test_client()
    never = RegistryClient()
    monday_0359_berlin = datetime(2027, 1, 4, 2, 59, tzinfo=UTC)

    before = run_once(app, now=monday_0359_berlin, client=never)
    due = run_once(app, now=monday_0359_berlin + timedelta(minutes=1, seconds=30), client=never)
    again = run_once(app, now=monday_0359_berlin + timedelta(minutes=2), client=never)

    assert (before.scheduled, again.scheduled) == ([], [])
    (event,) = due.scheduled
    (decision,) = event.decisions
    assert decision.verdict.value == "queued"
    build = wait_for_build(client, str(decision.build_id), BUILD_DEADLINE)
    assert build["status"] == "success", build["error"]
    assert (build["trigger"], build["commit"], build["ref"]) == ("schedule", head,
                                                                 "refs/heads/main")
    assert build["reason"] == ("scheduled rebuild (0 4 * * 1, Europe/Berlin), due "
                               "2027-01-04T03:00:00Z")
    assert build["bases"] and build["bases"][0]["reference"] == base
    assert client.get("/api/builds?trigger=schedule").get_json()["builds"][0]["id"] == build[
        "id"]
    upcoming = next_run("0 4 * * 1", "Europe/Berlin", datetime.now(UTC))
    assert upcoming is not None
    page = client.get(f"/repos/{name}").get_data(as_text=True)
    assert f'datetime="{upcoming.astimezone(UTC).isoformat().replace("+00:00", "Z")}"' in page
