"""`autobuild gc` on the real stack: a real database, a worker's var/ folder and a Docker engine
of its own (so no other test's images are touched). `--dry-run` lists exactly what goes and
removes nothing; then old logs and history rows, mirrors of unconfigured repositories, workspaces
of builds that ended and dangling images go, and a running build's workspace and an image in
use stay."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import docker
import pytest
from sqlalchemy import select

from core.status import BuildStatus
from records.builds import BuildStore
from records.db import make_engine, utcnow
from records.migrate import prepare
from records.retention import PRUNED_MARKER
from records.schema import builds, deliveries
from tests.conftest import repo_yaml
from tests.factories import stored_build
from tests.integration.conftest import BASE_IMAGE
from tests.integration.engines import SecondEngine, second_engine
from workers.checkout import MirrorCheckout

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
CONFIGURED = "https://git.example.com/acme/kept.git"
REMOVED = "https://git.example.com/acme/removed.git"


@pytest.fixture
def engine(docker_client: docker.DockerClient) -> Iterator[SecondEngine]:
    with second_engine(docker_client, BASE_IMAGE) as made:
        yield made


def dangling(client: docker.DockerClient, label: str) -> str:
    """Build an image tagged gc-<label>, then move the tag to another: the first one dangles."""
    ids = []
    for value in (label, label + "-next"):
        dockerfile = io.BytesIO(f"FROM {BASE_IMAGE}\nLABEL gc={value}\n".encode())
        image, _ = client.images.build(fileobj=dockerfile, tag=f"gc-{label}:latest", rm=True)
        ids.append(str(image.id))
    return ids[0]


def gc(env: dict[str, str], *args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "service.cli", "gc", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def test_gc_lists_then_removes_what_this_host_no_longer_needs(
        tmp_path: Path, database: str, engine: SecondEngine) -> None:
    var = tmp_path / "var"
    rules = tmp_path / "rules.yaml"
    rules.write_text("repositories:\n" + repo_yaml("acme/kept", clone_url=CONFIGURED).replace(
        "secret: test-webhook-secret", "secret: ${WEB_ONLY_SECRET}"))  # unset on this host
    db = make_engine(database)
    prepare(db, mode="auto")
    store = BuildStore(db)
    old, recent = (stored_build(store, BuildStatus.SUCCESS) for _ in range(2))
    for build in (old, recent):
        store.append_log(build.id, f"the log of {build.id}\n")
    with db.begin() as conn:
        conn.execute(builds.update().where(builds.c.id == old.id).values(
            finished_at=utcnow() - timedelta(days=31)))
        for age in (31, 29):
            conn.execute(deliveries.insert().values(
                forge="github", delivery_id=f"gc-{age}", event="push", refs="[]",
                outcome="ignored", build_ids="[]", status_code=200,
                received_at=utcnow() - timedelta(days=age)))
    running = stored_build(store, BuildStatus.BUILDING)
    ended = stored_build(store, BuildStatus.FAILED)
    workspaces = {name: var / "work" / f"{name}-x1y2" for name in
                  (running.id, ended.id, "0123456789abcdef")}
    for folder in workspaces.values():
        (folder / "src").mkdir(parents=True)
    namer = MirrorCheckout(var / "mirrors", timeout=60, log=lambda _: None)
    kept_mirror, removed_mirror = namer.mirror_path(CONFIGURED), namer.mirror_path(REMOVED)
    partial = removed_mirror.with_name(removed_mirror.name + ".partial")
    for folder in (kept_mirror, removed_mirror, partial):
        (folder / "objects").mkdir(parents=True)
    unused = dangling(engine.client, "unused")
    in_use = dangling(engine.client, "in-use")
    engine.client.containers.create(in_use, command=["true"])  # a stopped container holds it
    env = dict(os.environ, DATABASE_URL=database, AUTOBUILD_VAR_DIR=str(var),
               AUTOBUILD_RULES=str(rules), AUTOBUILD_RETENTION_DAYS="30",
               DOCKER_HOST=engine.docker_host)
    wanted = [f"log build {old.id} (", "history 1 delivery (older than 30 days)",
              f"mirror {removed_mirror} (its repository is no longer configured)",
              f"mirror {partial} (its repository is no longer configured)",
              f"workspace {workspaces['0123456789abcdef']} (no such build)",
              f"workspace {workspaces[ended.id]} (build failed)",
              f"image {unused} (dangling, ", f"image {in_use} (dangling, "]

    listed = gc(env, "--dry-run", "--image-min-age", "0")

    assert listed[0] == "autobuild gc: dry run, nothing is removed"
    shown = [line.removeprefix("would remove ") for line in listed[1:-1]]
    assert [line[:len(w)] for line, w in zip(shown[:6], wanted, strict=False)] == wanted[:6]
    assert sorted(line.split(" (")[0] for line in shown[6:]) == sorted(
        w.split(" (")[0] for w in wanted[6:]), listed  # images: oldest first, ties any order
    assert all(line.startswith("would remove ") for line in listed[1:-1])
    assert listed[-1] == ("autobuild gc: would remove 1 log, 1 history, 2 mirrors, "
                          "2 workspaces, 2 images")
    assert all(folder.exists() for folder in (*workspaces.values(), removed_mirror, partial))
    assert store.get_log(old.id) == f"the log of {old.id}\n"
    assert engine.client.images.get(unused)

    done = gc(env, "--image-min-age", "0")

    assert done[-1] == ("autobuild gc: removed 1 log, 1 history, 2 mirrors, 2 workspaces, "
                        "1 image"), done
    with db.connect() as conn:
        assert list(conn.execute(select(deliveries.c.delivery_id)).scalars()) == ["gc-29"]
    assert any(line.startswith(f"kept image {in_use} (dangling, ") and "conflict" in line
               for line in done), done
    assert store.get_log(old.id) == PRUNED_MARKER
    assert store.get_log(recent.id) == f"the log of {recent.id}\n"
    assert store.get_build(old.id) is not None, "the build itself stays"
    assert workspaces[running.id].exists(), "never a running build's workspace"
    assert not workspaces[ended.id].exists() and not workspaces["0123456789abcdef"].exists()
    assert kept_mirror.exists() and not removed_mirror.exists() and not partial.exists()
    with pytest.raises(docker.errors.ImageNotFound):
        engine.client.images.get(unused)
    assert engine.client.images.get(in_use)
    assert gc(env, "--image-min-age", "0")[-2:] == [
        next(line for line in done if line.startswith("kept image")),
        "autobuild gc: removed nothing"]
    db.dispose()
