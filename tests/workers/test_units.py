"""Fast checks of the worker's pure parts; the real-stack tests cover the I/O around them."""

from __future__ import annotations

import base64
import errno
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docker
import pytest

from core.errors import ImageBuildError
from tests.factories import make_plan
from tests.waiting import wait_until
from workers.buildlog import BuildLog
from workers.classic import NEEDS_BUILDKIT_HINT, only_these_logins, read_build_stream
from workers.docker_cli import registry_config
from workers.hooks import HookError, Hooks, hook_environment
from workers.labels import oci_labels
from workers.manifests import split_reference
from workers.publish import TRANSIENT
from workers.workspace import describe_crash


def read(stream: list[dict[str, Any]]) -> str:
    """The image id of a scripted classic build stream (no engine behind it)."""
    return read_build_stream(stream, lambda _text: None)


@pytest.mark.parametrize(("reference", "expected"), [
    pytest.param("127.0.0.1:5000/acme/app:v1", ("127.0.0.1:5000/acme/app", "v1"), id="port"),
    pytest.param("127.0.0.1:5000/acme/app", ("127.0.0.1:5000/acme/app", "latest"), id="no-tag"),
    pytest.param("registry/app:1.2.3-rc.1", ("registry/app", "1.2.3-rc.1"), id="semver"),
])
def test_split_reference(reference: str, expected: tuple[str, str]) -> None:
    assert split_reference(reference) == expected


def test_error_inside_the_stream_fails_with_the_step() -> None:
    stream: list[dict[str, Any]] = [
        {"stream": "Step 1/2 : FROM local/busybox:latest\n"},
        {"stream": "Step 2/2 : RUN false\n"},
        {"error": "The command '/bin/sh -c false' returned a non-zero code: 1",
         "errorDetail": {"code": 1, "message": "The command '/bin/sh -c false' returned a "
                                               "non-zero code: 1"}},
    ]
    with pytest.raises(ImageBuildError) as caught:
        read(stream)
    assert caught.value.user_message == (
        "Step 2/2 : RUN false: The command '/bin/sh -c false' returned a non-zero code: 1")


def test_image_id_comes_from_aux_or_the_success_line() -> None:
    assert read([{"aux": {"ID": "sha256:" + "a" * 64}}]) == (
        "sha256:" + "a" * 64)
    assert read([{"stream": "Successfully built 0123456789ab\n"}]) == (
        "0123456789ab")
    with pytest.raises(ImageBuildError, match="without producing an image"):
        read([{"stream": "Step 1/1 : FROM scratch\n"}])


class MemoryStore:
    """Collects appended log text, one write at a time."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self.writes)

    def append_log(self, build_id: str, text: str) -> None:
        self.writes.append(text)


def test_build_log_masks_every_secret_longest_first() -> None:
    store = MemoryStore()
    log = BuildLog(store, "b1", secrets=["hunter2", "hunter2-extended", "", "ab"])  # type: ignore[arg-type]
    log("pw=hunter2-extended and hunter2; ab stays\n")
    assert store.text == "pw=*** and ***; ab stays\n"


def test_a_gathering_log_writes_seldom_but_soon_and_masks_split_secrets() -> None:
    store = MemoryStore()
    log = BuildLog(store, "b1", secrets=["hunter2-extended"], interval=0.05)  # type: ignore[arg-type]
    for line in ("#1 [1/2] FROM scratch\n", "#2 0.1 pw=hunter2-", "extended\n"):
        log(line)
    assert store.writes == []  # not yet: gathered
    wait_until(lambda: store.writes, 5, "the gathered output being written")
    assert store.writes == ["#1 [1/2] FROM scratch\n#2 0.1 pw=***\n"]
    log("#2 DONE 0.1s\n")
    log.flush()
    assert store.writes[1:] == ["#2 DONE 0.1s\n"]
    log.flush()
    assert len(store.writes) == 2  # nothing gathered: nothing written


def test_a_plain_log_writes_through() -> None:
    store = MemoryStore()
    BuildLog(store, "b1")("Build failed while reading credentials: …\n")  # type: ignore[arg-type]
    assert store.writes == ["Build failed while reading credentials: …\n"]


def test_oci_labels_use_the_checked_out_commit_and_rule_labels_win() -> None:
    plan = make_plan(repository="a/b", ref="refs/tags/v1", commit="c" * 40,
                     clone_url="https://user:tok@example.com/a/b.git", image="r/a/b",
                     tags=("r/a/b:1.0", "r/a/b:latest"),
                     labels=(("org.opencontainers.image.version", "custom"),))
    labels = oci_labels(plan, revision="d" * 40, now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert labels == {
        "org.opencontainers.image.source": "https://***@example.com/a/b.git",
        "org.opencontainers.image.revision": "d" * 40,
        "org.opencontainers.image.created": "2026-01-02T03:04:05Z",
        "org.opencontainers.image.version": "custom",
    }


def test_a_dockerfile_the_classic_builder_cannot_read_says_to_use_buildkit() -> None:
    message = ("the --mount option requires BuildKit. Refer to https://docs.docker.com/go/"
               "buildkit/ to learn how to build images with BuildKit enabled")
    stream: list[dict[str, Any]] = [
        {"stream": "Step 2/2 : RUN --mount=type=cache,target=/c echo hi"}, {"stream": "\n"},
        {"errorDetail": {"message": message}, "error": message}]
    with pytest.raises(ImageBuildError) as caught:
        read(stream)
    assert caught.value.user_message == (
        f"Step 2/2 : RUN --mount=type=cache,target=/c echo hi: {message} "
        f"({NEEDS_BUILDKIT_HINT})")
    assert NEEDS_BUILDKIT_HINT == "this Dockerfile needs BuildKit: set builder: buildkit"
@pytest.mark.parametrize(("message", "transient"), [
    ("received unexpected HTTP status: 503 Service Unavailable", True),
    ("dial tcp 127.0.0.1:5999: connect: connection refused", True),
    ("unauthorized: authentication required", False),
    ("denied: requested access to the resource is denied", False),
])
def test_which_push_failures_are_retried(message: str, transient: bool) -> None:
    assert bool(TRANSIENT.search(message)) is transient


def test_hooks_get_the_build_env_under_docker_hubs_variables(tmp_path: Path) -> None:
    """`env` reaches every hook, the test hooks run in Docker Hub's order, and Autobuild's own
    variables cannot be replaced."""
    folder = tmp_path / "hooks"
    folder.mkdir()
    for name in ("pre_test", "test", "post_test"):
        (folder / name).write_text(f"#!/bin/sh\necho \"{name} $STAGE $SOURCE_BRANCH\"\n")
    lines: list[str] = []
    hooks = Hooks(folder, env=hook_environment(source_ref="main", commit="c" * 40, message="m",
                                               image="reg/app", tag="latest",
                                               dockerfile="Dockerfile"),
                  log=lines.append, timeout=30)
    hooks.add_env({"STAGE": "prod", "SOURCE_BRANCH": "forged"})
    hooks.run_tests()
    assert [line for line in lines if not line.startswith("Executing")] == [
        "pre_test prod main\n", "test prod main\n", "post_test prod main\n"]


def test_a_failing_test_hook_fails_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "hooks"
    folder.mkdir()
    (folder / "test").write_text("#!/bin/sh\nexit 3\n")
    (folder / "post_test").write_text("#!/bin/sh\necho never\n")
    lines: list[str] = []
    with pytest.raises(HookError) as raised:
        Hooks(folder, env={"PATH": "/usr/bin:/bin"}, log=lines.append, timeout=30).run_tests()
    assert raised.value.user_message == "the test hook failed with exit code 3"
    assert "never\n" not in lines


def test_a_full_disk_is_named_and_other_crashes_are_internal_errors() -> None:
    full = OSError(errno.ENOSPC, "No space left on device", "/var/work/b1/src/big.bin")
    assert describe_crash(full) == ("the worker's disk is full (no space left on device "
                                    "writing /var/work/b1/src/big.bin)")
    assert describe_crash(KeyError("x")) == "internal error: KeyError: 'x'"


def test_the_classic_builder_sends_the_engine_only_the_builds_own_logins(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    worker_config = tmp_path / "worker-docker"
    worker_config.mkdir()
    other = base64.b64encode(b"ops:the-workers-other-login").decode()
    (worker_config / "config.json").write_text(json.dumps(
        {"auths": {"private.example.com": {"auth": other}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(worker_config))
    api = docker.APIClient(base_url="unix:///nonexistent.sock", version="1.41")
    headers: dict[str, str | bytes] = {}
    api._set_auth_headers(headers)
    assert "private.example.com" in decode_registry_config(headers["X-Registry-Config"])

    with registry_config({"127.0.0.1:5000": ("builder", "its-own-password")}) as own:
        with only_these_logins(api, own):
            scoped: dict[str, str | bytes] = {}
            api._set_auth_headers(scoped)
        with only_these_logins(api, None):
            nothing: dict[str, str | bytes] = {}
            api._set_auth_headers(nothing)

    assert decode_registry_config(scoped["X-Registry-Config"]) == {"127.0.0.1:5000": {
        "username": "builder", "password": "its-own-password", "serveraddress": "127.0.0.1:5000"}}
    assert nothing == {}


def decode_registry_config(header: str | bytes) -> dict[str, object]:
    raw = header.encode() if isinstance(header, str) else header
    return json.loads(base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4)))
