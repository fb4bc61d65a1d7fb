"""A signed GitHub push and a Build now each become a pushed image, on the real stack."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import docker
import pytest
from flask import Flask
from markupsafe import escape

from core.signatures import sign_github
from tests.conftest import API_TOKEN, SECRET
from tests.core.fixtures import FIXTURES_DIR
from tests.integration.conftest import (
    RulesWriter,
    main_rule,
    read_file_from_registry_image,
    registry_digest,
    rules_for,
    unique_image,
    wait_for_build,
)

pytestmark = [pytest.mark.integration, pytest.mark.both_databases]
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def github_push(name: str, ref: str, after: str) -> bytes:
    """The real GitHub push payload rewritten to our repository, ref and commit."""
    payload = json.loads((FIXTURES_DIR / "github/push-branch.json").read_bytes())
    payload["repository"]["full_name"] = name
    payload["ref"] = ref
    payload["after"] = after
    payload["head_commit"]["id"] = after
    return json.dumps(payload).encode()


def test_signed_push_becomes_image_in_registry(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    docker_client: docker.DockerClient,
) -> None:
    app, write_rules = live_app
    bare, commit = source_repo()
    image = unique_image("push")
    write_rules(rules_for("it/push", f"file://{bare}", image))
    body = github_push("it/push", "refs/heads/main", commit)
    client = app.test_client()

    response = client.post("/hooks/github", data=body, headers={
        "X-GitHub-Event": "push", "X-GitHub-Delivery": f"it-{commit}",
        "X-Hub-Signature-256": sign_github(body, SECRET), "Content-Type": "application/json"})

    assert response.status_code == 202, response.get_json()
    (queued,) = response.get_json()["builds"]
    assert queued["status"] == "queued"
    build = wait_for_build(client, queued["id"])
    assert build["status"] == "success", build["error"]
    assert build["commit"] == commit
    assert build["tags"] == [f"{image}:latest"]
    assert build["digest"] == registry_digest(f"{image}:latest")
    marker = (bare.parent / "work" / "marker.txt").read_text()
    assert read_file_from_registry_image(docker_client, f"{image}:latest",
                                         "/src/marker.txt") == marker
    log = client.get(f"/api/builds/{build['id']}/log").get_data(as_text=True)
    assert f"run-step-output {marker}" in log
    assert build["started_at"] <= build["finished_at"]


def test_build_now_builds_the_branch_head(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
) -> None:
    app, write_rules = live_app
    bare, commit = source_repo()
    image = unique_image("now")
    write_rules(rules_for("it/now", f"file://{bare}", image))
    client = app.test_client()

    response = client.post("/api/builds", json={"repository": "it/now", "ref": "main"},
                           headers=AUTH)

    assert response.status_code == 202, response.get_json()
    (queued,) = response.get_json()["builds"]
    assert queued["ref"] == "refs/heads/main" and queued["commit"] == commit
    build = wait_for_build(client, queued["id"])
    assert build["status"] == "success", build["error"]
    assert build["digest"] == registry_digest(f"{image}:latest")


FAILING = ("FROM local/busybox:latest\nCOPY marker.txt /marker.txt\n"  # no cache hit
           "RUN echo compiling\n"
           "RUN echo 'fatal: widget is broken' && exit 3\n")
FAILING_STEP = "RUN echo 'fatal: widget is broken' && exit 3"


@pytest.mark.parametrize(("builder", "error"), [
    pytest.param("buildkit", f"[4/4] {FAILING_STEP}: executor failed running "
                 "[/bin/sh -c echo 'fatal: widget is broken' && exit 3]: exit code: 3",
                 id="buildkit"),
    pytest.param("classic", f"Step 4/8 : {FAILING_STEP}: The command '/bin/sh -c echo "  # +4 LABELs
                 "'fatal: widget is broken' && exit 3' returned a non-zero code: 3", id="classic"),
])
def test_failing_run_step_fails_with_its_error(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    builder: str, error: str,
) -> None:
    app, write_rules = live_app
    bare, _ = source_repo({"Dockerfile": FAILING})
    write_rules(rules_for("it/fail", f"file://{bare}", unique_image("fail"),
                          main_rule(builder=builder)))
    client = app.test_client()

    response = client.post("/api/builds", json={"repository": "it/fail", "ref": "main"},
                           headers=AUTH)
    build = wait_for_build(client, response.get_json()["builds"][0]["id"])

    assert (build["status"], build["error"], build["builder"]) == ("failed", error, builder)
    log = client.get(f"/api/builds/{build['id']}/log").get_data(as_text=True)
    assert "compiling" in log and "fatal: widget is broken" in log
    assert build["digest"] is None
    page = client.get(f"/builds/{build['id']}").get_data(as_text=True)
    marked = page.split('<mark class="failing-step" id="failing-step">')[1].split("</mark>")[0]
    lines = marked.replace("</strong>", "").splitlines()
    first, last = lines[0], lines[-1]
    if builder == "buildkit":  # the step's block: `#N [4/4] RUN …` to `#N ERROR: …`
        number = first.split(" ")[0]
        assert first == f"{number} [4/4] {escape(FAILING_STEP)}"
        assert last.startswith(f'<strong class="log-error">{number} ERROR: executor failed')
        assert "compiling" not in marked
    else:
        assert first == f"Step 4/8 : {escape(FAILING_STEP)}"
        assert "returned a non-zero code: 3" in last


def test_build_now_errors_are_clear(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    tmp_path: Path,
) -> None:
    app, write_rules = live_app
    bare, _ = source_repo()
    write_rules(rules_for("it/ok", f"file://{bare}", unique_image("errs"))
                + rules_for("it/gone", f"file://{tmp_path}/missing.git", unique_image("gone"))
                .removeprefix("repositories:\n"))
    client = app.test_client()

    def post(body: dict[str, str], headers: dict[str, str] | None = None) -> tuple[int, str]:
        response = client.post("/api/builds", json=body, headers=AUTH if headers is None
                               else headers)
        return response.status_code, response.get_json().get("error", "")

    assert post({"repository": "it/ok", "ref": "main"}, {})[0] == 401
    assert post({"repository": "it/ok", "ref": "main"},
                {"Authorization": "Bearer wrong"})[0] == 401
    status, error = post({"repository": "nobody/here", "ref": "main"})
    assert status == 404 and "nobody/here" in error
    status, error = post({"repository": "it/ok", "ref": "no-such-branch"})
    assert status == 422 and "no-such-branch" in error
    status, error = post({"repository": "it/gone", "ref": "main"})
    assert status == 502 and "missing.git" in error
