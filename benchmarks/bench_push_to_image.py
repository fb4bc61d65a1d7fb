"""Benchmark: push → image in the registry, Autobuild (BuildKit and classic) against by hand.

On the real stack (scripts/stack.sh: engine, registry on 127.0.0.1:5000, local/busybox), in one
go: a private redis-server, one real `python -m workers` process and the web app in-process,
a small repository in a temporary folder. Each round commits a change and pushes it to the bare
repository, then measures, on that same commit and in an order that rotates every round:

- hand:     git clone --depth 1 && DOCKER_BUILDKIT=1 /usr/bin/docker build && docker push
            (the baseline; BuildKit by hand, RUN steps on network none as on these machines)
- buildkit: the signed GitHub webhook is posted → the registry serves the new manifest
- classic:  the same for a rule with `builder: classic`

from the moment the push is done until the new image is in the registry: for hand when
`docker push` returns, for Autobuild when the worker has recorded the build's end (after its
push; read from the database every 20 ms, so that no polling competes with the build for the
CPU). Every run's new digest is then checked against the registry. It prints median / min / max
per variant, each builder's median ratio to hand, and where Autobuild's time goes (from the
build's own phase times). Not run by pytest.

    var/venv/bin/python -m benchmarks.bench_push_to_image [--rounds 9]

Target: buildkit median ≤ 1.15 × hand. On a shared machine run it while nothing else runs:
other load lands on whichever run it meets.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import requests
from flask.testing import FlaskClient
from redis import Redis

from core.signatures import sign_github
from core.status import BuildStatus
from records.builds import BuildStore
from service import create_app
from workers.docker_cli import DOCKER_CLI

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = "127.0.0.1:5000"
SECRET = "bench-webhook-secret"
TOKEN = "bench-api-token-0123456789"
DOCKERFILE = "FROM local/busybox:latest\nCOPY . /src\nRUN cat /src/app.txt > /app.txt\n"
ACCEPT = ("application/vnd.docker.distribution.manifest.v2+json, "
          "application/vnd.oci.image.manifest.v1+json")
IDENTITY = ["-c", "user.name=Bench", "-c", "user.email=bench@autobuild.invalid"]
VARIANTS = ("hand", "buildkit", "classic")


def run(*args: str, cwd: Path | None = None) -> None:
    """Run a command, failing loudly with its output."""
    done = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}{done.stderr}")


class Registry:
    """Reads the manifest digest a tag has, over one kept-alive connection."""

    def __init__(self) -> None:
        self.session = requests.Session()

    def digest(self, image: str) -> str | None:
        repository = image.removeprefix(f"{REGISTRY}/")
        answer = self.session.head(f"http://{REGISTRY}/v2/{repository}/manifests/latest",
                                   headers={"Accept": ACCEPT}, timeout=5)
        return answer.headers.get("Docker-Content-Digest") if answer.ok else None


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A private redis-server on a free port; its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", str(folder)],
                               stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        end = time.monotonic() + 20
        while not answers(url):
            if process.poll() is not None or time.monotonic() > end:
                raise SystemExit("redis-server did not start; run scripts/stack.sh first")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url).ping())
    except Exception:  # noqa: BLE001 - not up yet
        return False


@contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[None]:
    """One `python -m workers`, as the Procfile starts it."""
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "workers"], env=env, cwd=ROOT,
                                   stdout=out, stderr=subprocess.STDOUT)
        try:
            yield
        finally:
            process.terminate()
            process.wait(30)


def rules(clone_url: str, images: dict[str, str]) -> str:
    """One repository entry per builder, all on the same clone URL."""
    return "repositories:\n" + "".join(
        f"  - name: bench/{builder}\n    provider: github\n    clone_url: {clone_url}\n"
        f"    secret: {SECRET}\n    image: {images[builder]}\n    rules:\n"
        f"      - {{source_type: branch, source: main, tag: latest, builder: {builder}}}\n"
        for builder in ("buildkit", "classic"))


def webhook(client: FlaskClient, name: str, before: str, after: str) -> str:
    """Post GitHub's push webhook for `after`; the queued build's id."""
    body = json.dumps({"ref": "refs/heads/main", "before": before, "after": after,
                       "created": False, "deleted": False, "forced": False,
                       "repository": {"full_name": name},
                       "head_commit": {"id": after, "message": "bench"},
                       "commits": [{"id": after, "added": [], "removed": [],
                                    "modified": ["app.txt"]}]}).encode()
    answer = client.post("/hooks/github", data=body, headers={
        "X-GitHub-Event": "push", "X-GitHub-Delivery": uuid.uuid4().hex,
        "Content-Type": "application/json", "X-Hub-Signature-256": sign_github(body, SECRET)})
    if answer.status_code != 202 or not answer.get_json().get("builds"):
        raise SystemExit(f"the webhook was not queued: {answer.get_json()}")
    return str(answer.get_json()["builds"][0]["id"])


def by_hand(bare: Path, image: str, scratch: Path) -> None:
    """The baseline: clone the head shallowly, build it with BuildKit, push it."""
    checkout = scratch / uuid.uuid4().hex
    run("git", "clone", "-q", "--depth", "1", f"file://{bare}", str(checkout))
    env = dict(os.environ, DOCKER_BUILDKIT="1")
    subprocess.run([DOCKER_CLI, "build", "-q", "--network", "none", "-t", f"{image}:latest",
                    str(checkout)], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([DOCKER_CLI, "push", "-q", f"{image}:latest"], check=True,
                   stdout=subprocess.DEVNULL)


def finished(store: BuildStore, build_id: str, deadline: float = 120) -> dict[str, datetime]:
    """When the build was queued, started and entered each phase, until it finished (read
    every 20 ms); fails unless it succeeded."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        build = store.get_build(build_id)
        if build is not None and build.finished_at is not None:
            if build.status is not BuildStatus.SUCCESS:
                raise SystemExit(f"build {build_id} ended {build.status}: {build.error}")
            assert build.building_at and build.pushing_at and build.started_at
            return {"queued": build.created_at, "cloning": build.started_at,
                    "building": build.building_at, "pushing": build.pushing_at,
                    "finished": build.finished_at}
        time.sleep(0.02)
    raise SystemExit(f"build {build_id} did not end within {deadline} s")


def summary(name: str, values: list[float], baseline: list[float] | None) -> str:
    """One variant's median, min and max; against the baseline, the ratio of the medians and
    the median of the ratios of each round's pair (steadier when the machine's load drifts)."""
    ratio = ""
    if baseline:
        pairs = statistics.median(v / b for v, b in zip(values, baseline, strict=True))
        ratio = (f"  {statistics.median(values) / statistics.median(baseline):.2f} × hand "
                 f"(pairs: median {pairs:.2f} ×)")
    return (f"{name:9} median {statistics.median(values):.3f} s  min {min(values):.3f} s  "
            f"max {max(values):.3f} s  (n={len(values)}){ratio}")


STAGES = (("queue → worker started", "queued", "cloning"),
          ("mirror + checkout", "cloning", "building"), ("build", "building", "pushing"),
          ("push + record", "pushing", "finished"))


def breakdown(samples: list[tuple[float, float, dict[str, datetime]]]) -> list[str]:
    """Median milliseconds of each stage of Autobuild's runs."""
    rows: dict[str, list[float]] = {"webhook answered": [], "answered → queued": []}
    rows.update({name: [] for name, _, _ in STAGES})
    for start, answered, marks in samples:
        rows["webhook answered"].append(answered - start)
        rows["answered → queued"].append(marks["queued"].timestamp() - answered)
        for name, begin, end in STAGES:
            rows[name].append((marks[end] - marks[begin]).total_seconds())
    return [f"    {name:24} {statistics.median(v) * 1000:6.0f} ms" for name, v in rows.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="measured rounds (≥ 7)")
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:8]
    images = {v: f"{REGISTRY}/bench-{tag}-{v}/app" for v in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="autobuild-bench-") as temp:
        folder = Path(temp)
        work, bare = folder / "work", folder / "repo.git"
        work.mkdir()
        run("git", "init", "-q", "-b", "main", cwd=work)
        (work / "Dockerfile").write_text(DOCKERFILE)
        (work / "app.txt").write_text("hello\n")
        run("git", *IDENTITY, "add", "-A", cwd=work)
        run("git", *IDENTITY, "commit", "-q", "-m", "init", cwd=work)
        run("git", "clone", "-q", "--bare", str(work), str(bare))
        run("git", "remote", "add", "origin", str(bare), cwd=work)
        (folder / "rules.yaml").write_text(rules(f"file://{bare}", images))
        with redis_server(folder) as redis_url:
            env = dict(os.environ, REDIS_URL=redis_url, AUTOBUILD_VAR_DIR=str(folder / "var"),
                       DATABASE_URL=f"sqlite:///{folder}/autobuild.db",
                       AUTOBUILD_RULES=str(folder / "rules.yaml"), AUTOBUILD_DB_UPGRADE="auto",
                       AUTOBUILD_BUILD_NETWORK="none")
            os.environ.update(env)  # the in-process web app reads the same settings
            app = create_app({"TESTING": True, "API_TOKEN": TOKEN, "DB_UPGRADE": "auto"})
            client = app.test_client()
            with worker(env, folder / "worker.log"):
                measure(args.rounds, client, app.extensions["build_store"], images, work,
                        bare, folder)


def measure(rounds: int, client: FlaskClient, store: BuildStore, images: dict[str, str],
            work: Path, bare: Path, folder: Path) -> None:
    """The rounds (one warm-up first, not counted) and the report."""
    registry = Registry()
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    samples: dict[str, list[tuple[float, float, dict[str, datetime]]]] = {
        "buildkit": [], "classic": []}
    before = git_head(work)
    for number in range(rounds + 1):
        (work / "app.txt").write_text(f"round {number} {uuid.uuid4().hex}\n")
        run("git", *IDENTITY, "commit", "-q", "-am", f"round {number}", cwd=work)
        run("git", "push", "-q", "origin", "main", cwd=work)
        commit = git_head(work)
        order = VARIANTS[number % 3:] + VARIANTS[:number % 3]
        for variant in order:
            previous = registry.digest(images[variant])
            start = time.time()
            if variant == "hand":
                by_hand(bare, images["hand"], folder)
                end = time.time()
            else:
                build_id = webhook(client, f"bench/{variant}", before, commit)
                answered = time.time()
                marks = finished(store, build_id)
                end = marks["finished"].timestamp()
                samples[variant].append((start, answered, marks))
            if registry.digest(images[variant]) in (None, previous):
                raise SystemExit(f"{variant}: the registry does not have the new image")
            times[variant].append(end - start)
        before = commit
        if number:
            print(f"round {number}: " + "  ".join(f"{v} {times[v][-1]:.3f} s" for v in order),
                  flush=True)
    for variant in VARIANTS:  # drop the warm-up round (a new mirror, a cold cache)
        times[variant] = times[variant][1:]
    print()
    for variant in VARIANTS:
        print(summary(variant, times[variant], None if variant == "hand" else times["hand"]))
    for variant, rows in samples.items():
        print(f"\n  where {variant}'s time goes (medians):")
        print("\n".join(breakdown(rows[1:])))


def git_head(work: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=work, capture_output=True,
                          text=True, check=True).stdout.strip()


if __name__ == "__main__":
    main()
