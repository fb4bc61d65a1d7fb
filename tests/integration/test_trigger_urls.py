"""Docker Hub trigger URLs called by a real curl against a real gunicorn (the Procfile's
command line), built by the real worker into the real registry."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from core.triggers import source_id
from tests.conftest import API_TOKEN, git
from tests.integration.conftest import (
    RulesWriter,
    free_port,
    registry_digest,
    rules_for,
    unique_image,
    wait_for_build,
)
from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.both_databases]
OLD = "old-hub-trigger-token-0123456789"
NEW = "new-hub-trigger-token-abcdefghij"
RULES = ("      - {source_type: Branch, source: main, tag: latest}\n"
         "      - {source_type: Tag, source: '/^v([0-9.]+)$/', tag: 'v{\\1}'}\n")


@pytest.fixture
def gunicorn(worker_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`gunicorn … service:create_app()` as the Procfile runs it, on a free port; yields its
    base URL and its access log."""
    port = free_port()
    access_log = tmp_path / "access.log"
    env = dict(worker_env, AUTOBUILD_API_TOKEN=API_TOKEN, AUTOBUILD_SECRET_KEY="integration")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "4", "--access-logfile", str(access_log),
         "--logger-class", "service.access_log.RedactingLogger", "service:create_app()"],
        env=env, cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "gunicorn.log").open("wb"))
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited: {(tmp_path / 'gunicorn.log').read_text()}")
        try:
            return requests.get(f"{base}/healthz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    wait_until(answers, 30, "gunicorn answering /healthz")
    yield base, access_log
    process.terminate()
    process.wait(timeout=20)


def curl(url: str, *args: str) -> tuple[int, dict[str, object]]:
    """POST with a real curl process; (status, JSON answer)."""
    out = subprocess.run(["curl", "-sS", "-X", "POST", *args, "-w", "\n%{http_code}", url],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    body, _, status = out.rpartition("\n")
    return int(status), json.loads(body)


def test_curl_triggers_builds_through_gunicorn(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    gunicorn: tuple[str, Path],
) -> None:
    app, write_rules = live_app
    base, access_log = gunicorn
    bare, commit = source_repo()
    git("tag", "v1.0", commit, cwd=bare.parent / "work")
    git("push", "-q", "origin", "v1.0", cwd=bare.parent / "work")
    image = unique_image("trigger")
    text = rules_for("it/triggered", f"file://{bare}", image, RULES)
    write_rules(text.replace("    rules:\n", f"    trigger_token: [{OLD}, {NEW}]\n    rules:\n"))
    client = app.test_client()
    repo = app.extensions["rules"].rules.find("github", "it/triggered")
    classic = f"{base}/u/it/triggered/trigger/{NEW}/"
    new_style = f"{base}/api/build/v1/source/{source_id(repo)}/trigger/{OLD}/call/"

    status, answer = curl(classic, "--data", "build=true")

    assert status == 202, answer
    (build,) = answer["builds"]  # type: ignore[misc]
    assert (build["ref"], build["commit"], build["trigger"]) == ("refs/heads/main", commit,
                                                                 "trigger")
    done = wait_for_build(client, build["id"])
    assert done["status"] == "success", done["error"]
    assert registry_digest(f"{image}:latest") == done["digest"]

    status, answer = curl(new_style, "-H", "Content-Type: application/json",
                          "--data", '{"source_type": "Tag", "source_name": "v1.0"}')
    assert status == 202, answer
    (tagged,) = answer["builds"]  # type: ignore[misc]
    done = wait_for_build(client, tagged["id"])
    assert done["status"] == "success" and done["tags"] == [f"{image}:v1.0"], done

    assert curl(f"{base}/u/it/triggered/trigger/not-the-token-0123456789/",
                "--data", "build=true")[0] == 404
    status, answer = curl(classic, "-H", "Content-Type: application/json",
                          "--data", '{"docker_tag": "nightly"}')
    assert status == 422 and "no rule has the Docker tag 'nightly'" in str(answer["error"])

    write_rules(text.replace("    rules:\n", f"    trigger_token: {NEW}\n    rules:\n"))
    wait_until(lambda: curl(new_style, "--data", "build=true")[0] == 404, 20,
               "gunicorn refusing the rotated-out token")
    assert curl(classic, "--data", "source_type=Branch&source_name=nope")[0] == 422

    calls = requests.get(f"{base}/api/triggers?repository=it/triggered", timeout=10).json()
    seen = [(c["outcome"], c["body"], c["client"]) for c in calls["triggers"]][::-1]
    assert seen[:3] == [("queued", "build=true", "127.0.0.1"),
                        ("queued", '{"source_type": "Tag", "source_name": "v1.0"}', "127.0.0.1"),
                        ("not_built", '{"docker_tag": "nightly"}', "127.0.0.1")]
    page = requests.get(f"{base}/repos/it/triggered", timeout=10).text
    logged = access_log.read_text()
    for secret in (OLD, NEW):
        assert secret not in json.dumps(calls) and secret not in page and secret not in logged
    assert "POST /u/it/triggered/trigger/***/ HTTP/1.1" in logged
    assert f"/api/build/v1/source/{source_id(repo)}/trigger/***/call/" in logged
