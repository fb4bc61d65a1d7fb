"""Two web processes behind one name: two gunicorns as the Procfile runs them, on different
ports and with var/ folders of their own (as on two hosts), sharing PostgreSQL, Redis, the rules
file and AUTOBUILD_SECRET_KEY, with a worker building for them.

A login on one is a login on the other, its CSRF tokens work on both, a build queued through one
streams its live log from the other, a rules change is seen by both, a delivery sent to both at
once is accepted once, failed logins count across both, and /metrics says the same on both.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from redis import Redis
from werkzeug.security import generate_password_hash

from core.signatures import sign_github
from service.login_limits import SharedLoginLimiter
from tests.conftest import API_TOKEN, SECRET, repo_yaml
from tests.core.fixtures import FIXTURES_DIR
from tests.databases import POSTGRESQL
from tests.integration.conftest import (
    free_port,
    rules_for,
    start_worker,
    unique_image,
)
from tests.integration.test_streams_and_intake import ROOT, procfile_web_command
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
REDIS_DB = 12
USER, PASSWORD = "alice", "two-webs-password"
SECRET_KEY = "shared-session-key-0123456789abcdef0123456789"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
Webs = tuple[list[str], Path]


@pytest.fixture
def two_webs(stack: dict[str, str], database: str, tmp_path: Path,
             source_repo: object) -> Iterator[Webs]:
    """Two Procfile gunicorns and one worker on one PostgreSQL database and Redis database;
    yields their base URLs and the rules file they share."""
    redis_url = stack["redis_url"].rsplit("/", 1)[0] + f"/{REDIS_DB}"
    rules = tmp_path / "rules.yaml"
    rules.write_text("repositories: []\n")
    common = dict(os.environ, DATABASE_URL=database, REDIS_URL=redis_url,
                  AUTOBUILD_RULES=str(rules), AUTOBUILD_DB_UPGRADE="auto",
                  AUTOBUILD_API_TOKEN=API_TOKEN, AUTOBUILD_SECRET_KEY=SECRET_KEY,
                  AUTOBUILD_USERS=f"{USER}:{generate_password_hash(PASSWORD)}",
                  AUTOBUILD_BUILD_NETWORK="none")
    processes: list[subprocess.Popen[bytes]] = []
    bases = []
    for name in ("web-a", "web-b"):
        port = free_port()
        env = dict(common, AUTOBUILD_VAR_DIR=str(tmp_path / name))
        processes.append(subprocess.Popen(
            procfile_web_command(port), cwd=ROOT, env=env, start_new_session=True,
            stdout=(tmp_path / f"{name}.log").open("wb"), stderr=subprocess.STDOUT))
        bases.append(f"http://127.0.0.1:{port}")
    processes.append(start_worker(dict(common, AUTOBUILD_VAR_DIR=str(tmp_path / "worker")),
                                  tmp_path / "worker.log"))

    def up(base: str) -> bool:
        if any(p.poll() is not None for p in processes):
            pytest.fail("a web or worker process exited at start; see " + str(tmp_path))
        try:
            return requests.get(f"{base}/healthz", timeout=2).status_code == 200
        except requests.RequestException:  # not listening, or still starting
            return False

    for base in bases:
        wait_until(lambda base=base: up(base), 60, f"gunicorn answering at {base}")
    yield bases, rules
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


def csrf(session: requests.Session, url: str) -> str:
    """The CSRF token a page's form carries for this session."""
    page = session.get(url, timeout=10)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def rewrite_rules(rules: Path, text: str) -> None:
    rules.write_text(text)
    later = os.stat(rules).st_mtime + 1
    os.utime(rules, (later, later))


def read_events(session: requests.Session, url: str) -> list[tuple[str, dict[str, object]]]:
    """Every Server-Sent Event of a build's stream, until it ends."""
    events: list[tuple[str, dict[str, object]]] = []
    with session.get(url, stream=True, timeout=120) as response:
        assert response.status_code == 200
        name = ""
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((name, json.loads(line.removeprefix("data: "))))
                if name == "end":
                    break
    return events


def metric_lines(base: str, prefix: str) -> list[str]:
    text = requests.get(f"{base}/metrics", timeout=10).text
    return sorted(line for line in text.splitlines() if line.startswith(prefix))


@pytest.mark.parametrize("database", [POSTGRESQL], indirect=True)
def test_two_web_processes_act_as_one_service(
    two_webs: Webs, source_repo: object, tmp_path: Path,
) -> None:
    (a, b), rules = two_webs
    bare, commit = source_repo()  # type: ignore[operator]
    rewrite_rules(rules, rules_for("it/webs", f"file://{bare}", unique_image("webs")))
    for base in (a, b):  # a rules change is seen by both within their check interval
        wait_until(lambda base=base: "it/webs" in requests.get(f"{base}/", timeout=10).text,
                   10, f"{base} showing the new repository")

    # log in on A; the session and its CSRF token work on B
    browser = requests.Session()
    login = browser.post(f"{a}/login", data={
        "csrf_token": csrf(browser, f"{a}/login"), "username": USER, "password": PASSWORD},
        allow_redirects=False, timeout=10)
    assert login.status_code == 303, login.text
    assert f'<span class="user" title="logged in">{USER}</span>' in browser.get(
        f"{b}/", timeout=10).text
    form = {"repository": "it/webs", "provider": "github", "rule_index": "0"}
    refused = browser.post(f"{b}/actions/build-now", data=form, allow_redirects=False,
                           timeout=10)
    assert refused.status_code == 400  # no CSRF token: refused on either
    queued = browser.post(f"{b}/actions/build-now", allow_redirects=False, timeout=30,
                          data={**form, "csrf_token": csrf(browser, f"{a}/repos/it/webs")})
    assert queued.status_code == 303, queued.text
    build_id = queued.headers["Location"].rsplit("/", 1)[1]

    # the build queued through B streams its live log from A
    events = read_events(browser, f"{a}/builds/{build_id}/events")
    log = "".join(str(data["text"]) for name, data in events if name == "log")
    assert events[-1] == ("end", {"status": "success"}), events[-3:]
    assert f"Checked out {commit}" in log and "run-step-output" in log
    statuses = [str(data["status"]) for name, data in events if name == "status"]
    assert statuses[0] in ("queued", "cloning", "building", "pushing") and statuses[-1] == \
        "success", statuses  # followed live, not read after the end

    # one delivery sent to both at once is accepted once
    rewrite_rules(rules, "repositories:\n" + repo_yaml("Codertocat/Hello-World")
                  + rules_for("it/webs", f"file://{bare}", unique_image("webs"))
                  .removeprefix("repositories:\n"))
    for base in (a, b):
        wait_until(lambda base=base: "Codertocat/Hello-World" in requests.get(
            f"{base}/", timeout=10).text, 10, f"{base} showing the second repository")
    body = (FIXTURES_DIR / "github/push-branch.json").read_bytes()
    headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "twice-to-two-webs",
               "Content-Type": "application/json",
               "X-Hub-Signature-256": sign_github(body, SECRET)}
    answers: list[requests.Response] = []
    start = threading.Barrier(2)

    def deliver(base: str) -> None:
        start.wait()
        answers.append(requests.post(f"{base}/hooks/github", data=body, headers=headers,
                                     timeout=30))

    threads = [threading.Thread(target=deliver, args=(base,)) for base in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in answers) == [200, 202], [r.text for r in answers]
    accepted = next(r.json() for r in answers if r.status_code == 202)
    duplicate = next(r.json() for r in answers if r.status_code == 200)
    assert duplicate["duplicate"] is True
    assert [x["id"] for x in duplicate["builds"]] == [x["id"] for x in accepted["builds"]]
    listed = requests.get(f"{b}/api/builds?repository=Codertocat/Hello-World", timeout=10)
    assert len(listed.json()["builds"]) == 1

    # failed logins count across both processes (Redis), not per process
    guesser = requests.Session()
    for attempt in range(5):
        base = (a, b)[attempt % 2]
        wrong = guesser.post(f"{base}/login", data={
            "csrf_token": csrf(guesser, f"{base}/login"), "username": "mallory",
            "password": f"guess-{attempt}"}, timeout=10)
        assert wrong.status_code == 401
    for base in (a, b):
        limited = guesser.post(f"{base}/login", data={
            "csrf_token": csrf(guesser, f"{base}/login"), "username": "mallory",
            "password": "one-more"}, timeout=10)
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0

    # metrics are aggregates of the shared database (and Redis): the same on both
    for prefix in ("autobuild_builds_total", "autobuild_webhook_deliveries_total",
                   "autobuild_queue_workers"):
        on_a = metric_lines(a, prefix)
        assert on_a and on_a == metric_lines(b, prefix), prefix
    assert 'autobuild_builds_total{status="success",repository="it/webs"} 1' in metric_lines(
        b, "autobuild_builds_total")


def test_processes_sharing_redis_share_one_count_of_failed_logins(redis_url: str) -> None:
    now = [1000.0]
    redis = Redis.from_url(redis_url.rsplit("/", 1)[0] + "/14")
    redis.flushdb()
    one, two = (SharedLoginLimiter(redis, window=60, per_user=2, per_address=3,
                                   clock=lambda: now[0]) for _ in range(2))
    one.failed("bob", "10.0.0.1")
    two.failed("bob", "10.0.0.1")
    assert one.retry_after("bob", "10.0.0.2") == two.retry_after("bob", "10.0.0.2") == 60
    now[0] += 10
    two.failed("carol", "10.0.0.1")
    assert one.retry_after("dave", "10.0.0.1") == 50, "the address is spent too"
    now[0] += 51
    assert two.retry_after("bob", "10.0.0.1") == 0
    one.failed("bob", "10.0.0.1")
    one.failed("bob", "10.0.0.1")
    two.succeeded("bob")
    assert one.retry_after("bob", "10.0.0.9") == 0
    assert all(redis.ttl(key) <= 61 for key in redis.keys("autobuild:login-failures:*"))
    assert not [k for k in redis.keys() if b"bob" in k or b"10.0.0" in k], "names are hashed"
    redis.flushdb()
