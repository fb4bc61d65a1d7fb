"""`autobuild doctor` on the real stack: a real database, Redis servers configured well and
badly, the engine, registries that answer, refuse or are not there, and webhook secrets; it says
what is wrong and how to fix it, exits 1 on errors, and never prints a secret's value."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from tests.conftest import SECRET
from tests.integration.conftest import (
    REGISTRY,
    REGISTRY_PASSWORD,
    REGISTRY_USER,
    free_port,
)
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SHORT_SECRET = "tooshort-123"
WRONG_PASSWORD = "not-the-registry-password"
API_TOKEN_VALUE = "doctor-api-token-0123456789"


@pytest.fixture
def evicting_redis(tmp_path: Path) -> Iterator[str]:
    """A Redis with AOF on but a maxmemory-policy that evicts keys."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "yes", "--dir", str(tmp_path), "--maxmemory-policy", "allkeys-lru"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"

    def answers() -> bool:
        try:
            return bool(Redis.from_url(url).ping())
        except Exception:  # noqa: BLE001 - not up yet
            return False

    wait_until(answers, 20, "the evicting redis answering")
    yield url
    process.terminate()
    process.wait(timeout=10)


def repository(name: str, image: str, secret: str = SECRET, extra: str = "") -> str:
    return (f"  - name: {name}\n    provider: github\n    clone_url: https://example.com/x.git\n"
            f"    secret: {secret}\n    image: {image}\n{extra}")


def doctor(env: dict[str, str], *args: str) -> tuple[int, list[str]]:
    done = subprocess.run([sys.executable, "-m", "service.cli", "doctor", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.stderr == "", done.stderr
    return done.returncode, done.stdout.splitlines()


def test_doctor_names_each_problem_with_its_fix_and_never_a_secret(
    tmp_path: Path, private_registry: str, evicting_redis: str, redis_url: str,
) -> None:
    closed = f"127.0.0.1:{free_port()}"
    auth = (f"    registry_auth:\n      username: {REGISTRY_USER}\n"
            "      password: ${IT_DOCTOR_REG_PW}\n")
    gpu_rule = "    rules:\n      - {source_type: branch, source: main, queue: gpu}\n"
    good = repository("it/good", f"{private_registry}/it/good", extra=auth)
    wrong = repository("it/wrong", f"{private_registry}/it/wrong",
                       extra=auth.replace("IT_DOCTOR_REG_PW", "IT_DOCTOR_WRONG_PW"))
    rules = tmp_path / "rules.yaml"
    rules.write_text("repositories:\n" + good + wrong
                     + repository("it/short", f"{REGISTRY}/it/short", secret=SHORT_SECRET,
                                  extra=gpu_rule)
                     + repository("it/gone", f"{closed}/it/gone"))
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path}/doctor.db",  # not made yet
               REDIS_URL=evicting_redis, AUTOBUILD_RULES=str(rules),
               AUTOBUILD_API_TOKEN=API_TOKEN_VALUE, IT_DOCTOR_REG_PW=REGISTRY_PASSWORD,
               IT_DOCTOR_WRONG_PW=WRONG_PASSWORD, AUTOBUILD_VAR_DIR=str(tmp_path / "var"))

    code, lines = doctor(env)

    text = "\n".join(lines)
    assert code == 1, text
    assert [line for line in lines if line.startswith(("error", "warning"))] == [
        f"error    database: sqlite:///{tmp_path}/doctor.db: the database "
        f"sqlite:///{tmp_path}/doctor.db is empty (it has no Autobuild tables): run "
        "`autobuild db upgrade`, or set AUTOBUILD_DB_UPGRADE=auto to upgrade at start-up",
        "warning  redis: maxmemory-policy is allkeys-lru: under memory pressure Redis may evict "
        "queued jobs and the workers' registrations",
        f"error    registry {private_registry}: login '{REGISTRY_USER}' (it/wrong "
        "registry_auth) is refused",
        f"error    registry {closed}: unreachable at http://{closed}: ConnectionError",
        "error    github it/short webhook secret: shorter than 16 characters: guessable",
        "warning  queue builds: no worker is listening; 0 job(s) waiting",
        "warning  queue gpu: no worker is listening; 0 job(s) waiting",
    ], text
    assert lines[-1] == "autobuild doctor: 4 error(s), 3 warning(s)"
    assert "         fix: check the user name and ${IT_DOCTOR_WRONG_PW}" in lines
    assert ("         fix: start `python -m workers --queue gpu` on a machine that can build "
            "them") in lines
    assert {f"ok       redis: {evicting_redis}: reachable", "ok       redis: persistence: AOF on",
            "ok       engine unix:///var/run/docker.sock: answers /_ping",
            f"ok       registry {private_registry}: login '{REGISTRY_USER}' (it/good "
            "registry_auth) works",
            f"ok       registry {REGISTRY}: reachable at http://{REGISTRY}",
            "ok       github it/good webhook secret: set, at least 19 characters",
            "ok       api token: set"} <= set(lines), text
    for secret in (REGISTRY_PASSWORD, WRONG_PASSWORD, SHORT_SECRET, SECRET, API_TOKEN_VALUE):
        assert secret not in text

    # fixed: the schema made, the wrong login and the short secret gone; a Redis without
    # persistence and a queue nobody serves are warnings, so doctor passes
    rules.write_text("repositories:\n" + good)
    env.update(REDIS_URL=redis_url.rsplit("/", 1)[0] + "/15")  # no worker on this database
    subprocess.run([sys.executable, "-m", "service.cli", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    code, lines = doctor(env)
    assert code == 0, "\n".join(lines)
    assert [line.split(":", 1)[0] for line in lines if line.startswith(("error", "warning"))
            ] == ["warning  redis", "warning  queue builds"]
    assert lines[-1] == "autobuild doctor: 0 error(s), 2 warning(s)"
