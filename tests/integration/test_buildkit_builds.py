"""BuildKit builds through the worker on the real stack: cache mounts, build secrets that never
leak, two-platform manifest lists run under QEMU, and failures that say what to change."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import docker
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from records.schema import metadata
from tests.conftest import API_TOKEN, commit_files, git
from tests.integration.buildkit_support import IMAGE_TYPES, registry_get
from tests.integration.conftest import (
    WORKER_SECRETS,
    RulesWriter,
    main_rule,
    read_file_from_registry_image,
    rules_for,
    unique_image,
    wait_for_build,
)
from tests.integration.engines import output_of
from workers.docker_cli import DOCKER_CLI
from workers.image_build import NETWORK_HINT

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
MULTI_BASE = "127.0.0.1:5000/local/busybox:latest"  # amd64 + arm64, by scripts/platforms.sh
SECRET = WORKER_SECRETS["AUTOBUILD_IT_BUILD_SECRET"]


def build_now(app: Flask, name: str) -> dict[str, object]:
    """Build now the repository's main branch and wait for the build to end."""
    client = app.test_client()
    answer = client.post("/api/builds", json={"repository": name, "ref": "main"}, headers=AUTH)
    assert answer.status_code == 202, answer.get_json()
    return wait_for_build(client, answer.get_json()["builds"][0]["id"])


def log_of(app: Flask, build: dict[str, object]) -> str:
    return app.test_client().get(f"/api/builds/{build['id']}/log").get_data(as_text=True)


def test_a_cache_mount_persists_on_the_worker_between_builds(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    docker_client: docker.DockerClient,
) -> None:
    app, write_rules = live_app
    cache_id = uuid.uuid4().hex
    dockerfile = ("FROM local/busybox:latest\nCOPY marker.txt /marker.txt\n"
                  f"RUN --mount=type=cache,target=/cache,id={cache_id} "
                  "cat /marker.txt >> /cache/seen && cp /cache/seen /seen\n")
    bare, _ = source_repo({"Dockerfile": dockerfile, "marker.txt": "first\n"})
    image = unique_image("cachemount")
    write_rules(rules_for("it/cache-mount", f"file://{bare}", image))
    assert build_now(app, "it/cache-mount")["status"] == "success"
    work = bare.parent / "work"
    commit_files(work, {"marker.txt": "second\n"}, "second")
    git("push", "-q", "origin", "main", cwd=work)

    second = build_now(app, "it/cache-mount")

    assert (second["status"], second["builder"]) == ("success", "buildkit"), second["error"]
    assert read_file_from_registry_image(docker_client, f"{image}:latest", "/seen") == (
        "first\nsecond\n")


def everything_stored(app: Flask) -> str:
    """Every row of every table of the system of record, as text."""
    engine = app.extensions["build_store"].engine
    with engine.connect() as conn:
        rows = [dict(row) for table in metadata.sorted_tables
                for row in conn.execute(select(table)).mappings()]
    return json.dumps(rows, default=str)


def test_a_secret_is_used_in_a_run_step_and_found_nowhere(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    docker_client: docker.DockerClient, var_dir: Path,
) -> None:
    app, write_rules = live_app
    file_secret = f"file-secret-{uuid.uuid4().hex}"
    secret_file = var_dir / f"npmrc-{uuid.uuid4().hex[:8]}"
    secret_file.write_text(file_secret + "\n")
    dockerfile = ("FROM local/busybox:latest\nCOPY marker.txt /marker.txt\n"
                  "RUN --mount=type=secret,id=tok --mount=type=secret,id=npmrc "
                  "wc -c < /run/secrets/tok > /tok-bytes && cat /run/secrets/tok && echo && "
                  "cat /run/secrets/npmrc\n")
    bare, _ = source_repo({"Dockerfile": dockerfile})
    image = unique_image("secret")
    secrets = f"{{tok: '${{AUTOBUILD_IT_BUILD_SECRET}}', npmrc: {{file: {secret_file}}}}}"
    write_rules(rules_for("it/secret", f"file://{bare}", image, main_rule(secrets=secrets)))

    build = build_now(app, "it/secret")

    assert build["status"] == "success", build["error"]
    reference = f"{image}:latest"
    assert read_file_from_registry_image(docker_client, reference, "/tok-bytes") == (
        f"{len(SECRET)}\n")  # the RUN step read it (and the image was pulled afresh)
    history = subprocess.run([DOCKER_CLI, "history", "--no-trunc", reference],
                             capture_output=True, text=True, check=True).stdout
    inspected = json.dumps(docker_client.api.inspect_image(reference))
    saved = b"".join(docker_client.images.get(reference).save())
    log = log_of(app, build)
    client = app.test_client()
    api = (client.get(f"/api/builds/{build['id']}").get_data(as_text=True)
           + client.get("/api/builds").get_data(as_text=True))
    page = client.get(f"/builds/{build['id']}").get_data(as_text=True)
    stored = everything_stored(app)
    for value in (SECRET, file_secret):
        for where, text in (("docker history", history), ("labels and config", inspected),
                            ("the log", log), ("the API", api), ("the build page", page),
                            ("the database", stored)):
            assert value not in text, f"the secret is in {where}"
        assert value.encode() not in saved, "the secret is in the image's layers"
    assert log.count("***") >= 2  # both were printed by the RUN step, and masked
    assert "AUTOBUILD_IT_BUILD_SECRET" in stored  # only the reference is stored


def test_a_missing_secret_variable_fails_the_build_naming_the_secret(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
) -> None:
    app, write_rules = live_app
    bare, _ = source_repo()
    write_rules(rules_for("it/no-secret", f"file://{bare}", unique_image("nosecret"),
                          main_rule(secrets="{tok: '${AUTOBUILD_IT_NOT_SET_ANYWHERE}'}")))
    build = build_now(app, "it/no-secret")
    assert build["status"] == "failed"
    assert build["error"] == ("build secret tok: environment variable "
                              "AUTOBUILD_IT_NOT_SET_ANYWHERE is not set")


def test_two_platforms_become_one_list_whose_arm64_image_runs_under_qemu(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    docker_client: docker.DockerClient,
) -> None:
    app, write_rules = live_app
    dockerfile = f"FROM {MULTI_BASE}\nCOPY marker.txt /marker.txt\nRUN uname -m > /arch\n"
    bare, _ = source_repo({"Dockerfile": dockerfile})
    image = unique_image("multi")
    write_rules(rules_for("it/multi", f"file://{bare}", image, main_rule(
        tag="'latest,v1'", platforms="[linux/amd64, linux/arm64]")))

    build = build_now(app, "it/multi")

    assert build["status"] == "success", build["error"]
    assert build["platforms"] == ["linux/amd64", "linux/arm64"]
    for tag in ("latest", "v1"):
        index, served = registry_get(f"{image}:{tag}")
        assert served == build["digest"]
        entries = {f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"]
                   for m in index["manifests"]}
        assert entries == {p["platform"]: p["digest"] for p in build["platform_digests"]}
    assert [p["platform"] for p in build["platform_digests"]] == ["linux/amd64", "linux/arm64"]
    for entry in build["platform_digests"]:  # each platform's manifest is in the repository
        registry_get(f"{image}@{entry['digest']}", accept=IMAGE_TYPES)
    page = app.test_client().get(f"/builds/{build['id']}").get_data(as_text=True)
    assert build["platform_digests"][1]["digest"] in page and "linux/arm64" in page
    for platform, arch in (("linux/arm64", "aarch64"), ("linux/amd64", "x86_64")):
        pulled = docker_client.images.pull(image, tag="v1", platform=platform)
        try:
            output = output_of(docker_client, pulled.id, "cat", "/arch", platform=platform)
        finally:
            docker_client.images.remove(pulled.id, force=True)
        assert output == f"{arch}\n"


def test_a_failing_platform_fails_the_build_and_no_tag_moves(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
) -> None:
    app, write_rules = live_app
    dockerfile = f'FROM {MULTI_BASE}\nCOPY marker.txt /m\nRUN test "$(uname -m)" = x86_64\n'
    bare, _ = source_repo({"Dockerfile": dockerfile})
    image = unique_image("multifail")
    write_rules(rules_for("it/multi-fail", f"file://{bare}", image,
                          main_rule(platforms="[linux/amd64, linux/arm64]")))
    build = build_now(app, "it/multi-fail")
    assert build["status"] == "failed"
    assert build["error"] == ('linux/arm64: [3/3] RUN test "$(uname -m)" = x86_64: executor '
                              'failed running [/bin/sh -c test "$(uname -m)" = x86_64]: '
                              "exit code: 1")
    assert (build["digest"], build["platform_digests"]) == (None, [])
    with pytest.raises(Exception, match="404"):
        registry_get(f"{image}:latest")


@pytest.mark.parametrize(("builder", "dockerfile", "error"), [
    pytest.param("buildkit", "# syntax=docker/dockerfile:1\nFROM local/busybox:latest\n",
                 "the Dockerfile's # syntax= line needs the frontend image docker/dockerfile:1, "
                 "which could not be pulled: ", id="syntax-frontend-offline"),
    pytest.param("classic", "FROM local/busybox:latest\n"
                 "RUN --mount=type=cache,target=/c echo cached\n",
                 "Step 2/6 : RUN --mount=type=cache,target=/c echo cached: the --mount option "
                 "requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how "
                 "to build images with BuildKit enabled (this Dockerfile needs BuildKit: set "
                 "builder: buildkit)", id="classic-cannot-read-it"),
])
def test_a_dockerfile_that_cannot_build_says_why(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    builder: str, dockerfile: str, error: str,
) -> None:
    app, write_rules = live_app
    bare, _ = source_repo({"Dockerfile": dockerfile})
    write_rules(rules_for("it/cannot", f"file://{bare}", unique_image("cannot"),
                          main_rule(builder=builder)))
    build = build_now(app, "it/cannot")
    assert build["status"] == "failed"
    assert str(build["error"]).startswith(error), build["error"]
    assert "\n" not in str(build["error"])


NETWORK_PROBE = ("FROM local/busybox:latest\nCOPY marker.txt /m\n"
                 "RUN wget -q -O /answer http://127.0.0.1:5000/v2/\n")


@pytest.mark.parametrize("builder", ["buildkit", "classic"])
def test_the_build_network_setting_reaches_both_builders(
    isolated_stack: Callable[..., tuple[FlaskClient, RulesWriter, object]],
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
    docker_client: docker.DockerClient, builder: str,
) -> None:
    bare, _ = source_repo({"Dockerfile": NETWORK_PROBE})
    host_client, write_host_rules, _ = isolated_stack(6, AUTOBUILD_BUILD_NETWORK="host")
    image = unique_image("network")
    rules = rules_for("it/network", f"file://{bare}", image, main_rule(builder=builder))
    write_host_rules(rules)
    answer = host_client.post("/api/builds", json={"repository": "it/network", "ref": "main"},
                              headers=AUTH)
    on_host = wait_for_build(host_client, answer.get_json()["builds"][0]["id"])
    assert on_host["status"] == "success", on_host["error"]
    assert read_file_from_registry_image(docker_client, f"{image}:latest", "/answer") == "{}"

    app, write_rules = live_app  # the tests' own worker: AUTOBUILD_BUILD_NETWORK=none
    write_rules(rules_for("it/network", f"file://{bare}", image,  # not the cached step
                          main_rule(builder=builder, cache="false")))
    on_none = build_now(app, "it/network")
    assert on_none["status"] == "failed"
    assert "RUN wget -q -O /answer http://127.0.0.1:5000/v2/" in str(on_none["error"])


def test_no_default_bridge_fails_with_a_hint_to_set_the_network(
    isolated_stack: Callable[..., tuple[FlaskClient, RulesWriter, object]],
    source_repo: Callable[..., tuple[Path, str]],
) -> None:
    client, write_rules, _ = isolated_stack(7, AUTOBUILD_BUILD_NETWORK="default")
    bare, _ = source_repo()
    write_rules(rules_for("it/bridge", f"file://{bare}", unique_image("bridge")))
    answer = client.post("/api/builds", json={"repository": "it/bridge", "ref": "main"},
                         headers=AUTH)
    build = wait_for_build(client, answer.get_json()["builds"][0]["id"])
    assert build["status"] == "failed"
    assert "network bridge not found" in str(build["error"])
    assert str(build["error"]).endswith(f"({NETWORK_HINT})")
