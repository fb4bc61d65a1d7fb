"""Worker faults on the real stack: a stopped build leaves no process behind, and a worker
asked to stop finishes its build first."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.defaults import DOCKER_HOST
from tests.conftest import API_TOKEN, commit_files, git
from tests.integration.buildkit_support import is_running, parent_pid, processes_with
from tests.integration.conftest import (
    REGISTRY,
    RulesWriter,
    main_rule,
    push_delivery,
    rules_for,
    unique_image,
    wait_for_build,
    wait_for_log,
)
from tests.integration.engines import SecondEngine
from tests.waiting import wait_until
from workers.checkout import MirrorCheckout

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def unique_seconds() -> str:
    return str(40000 + uuid.uuid4().int % 9999)


@pytest.fixture
def stalling_server() -> Iterator[int]:
    """A port that accepts HTTP connections and never answers (a git server that hangs)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    closed = threading.Event()

    def accept() -> None:
        while not closed.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            held.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    closed.set()
    listener.close()
    for connection in held:
        connection.close()


def test_cancel_during_a_hook_ends_the_hook_and_what_it_started(
    live_app: tuple[Flask, RulesWriter], source_repo: Callable[..., tuple[Path, str]],
) -> None:
    app, write_rules = live_app
    seconds = unique_seconds()
    hook = f"#!/bin/sh\necho hook-sleeping\nsleep {seconds} &\nsleep {seconds}\n"
    bare, _ = source_repo({"Dockerfile": "FROM local/busybox:latest\n",
                           "hooks/post_checkout": hook})
    text = rules_for("it/hook-cancel", f"file://{bare}", unique_image("hookcancel"))
    write_rules(text.replace("    rules:\n", "    hooks: true\n    rules:\n"))
    client = app.test_client()
    queued = client.post("/api/builds", json={"repository": "it/hook-cancel", "ref": "main"},
                         headers=AUTH).get_json()["builds"][0]
    wait_for_log(client, queued["id"], "hook-sleeping")
    sleepers = wait_until(lambda: [p for p in processes_with("sleep\0", seconds)
                                   if is_running(p)], 10, "the hook's two sleeps")
    wait_until(lambda: len(processes_with("sleep\0", seconds)) == 2, 10, "both sleeps")

    assert client.post(f"/api/builds/{queued['id']}/cancel", headers=AUTH).status_code == 202

    build = wait_for_build(client, queued["id"], deadline=30)
    assert build["status"] == "cancelled"
    wait_until(lambda: not [p for p in processes_with("sleep\0", seconds) if is_running(p)],
               10, "the hook's processes ending", describe=lambda: str(sleepers))


def test_timeout_during_a_git_fetch_ends_git_and_its_helpers(
    live_app: tuple[Flask, RulesWriter], stalling_server: int,
) -> None:
    app, write_rules = live_app
    url = f"http://127.0.0.1:{stalling_server}/stalled-{uuid.uuid4().hex[:8]}.git"
    text = rules_for("it/git-stall", url, unique_image("gitstall"), main_rule(timeout="4"))
    write_rules(text.replace("    rules:\n", "    insecure_clone_url: true\n    rules:\n"))
    client = app.test_client()
    answer = push_delivery(client, "it/git-stall", "refs/heads/main", "0" * 40, "a" * 40,
                           f"stall-{uuid.uuid4()}")
    build_id = answer["builds"][0]["id"]  # type: ignore[index]
    helpers = wait_until(lambda: processes_with("remote-http", url), 20, "git's HTTP helper")
    fetches = {parent_pid(pid) for pid in helpers}

    build = wait_for_build(client, build_id, deadline=30)

    assert build["status"] == "timed_out"
    assert "timeout of 4 s" in build["error"]
    wait_until(lambda: not [p for p in [*helpers, *fetches] if is_running(p)], 10,
               "git and its helper ending", describe=lambda: str([*helpers, *fetches]))


def test_sigterm_lets_the_running_build_finish_and_takes_no_new_one(
    isolated_stack: Callable[..., tuple[FlaskClient, RulesWriter, subprocess.Popen[bytes]]],
    source_repo: Callable[..., tuple[Path, str]],
) -> None:
    client, write_rules, lonely = isolated_stack(8)
    nonce = uuid.uuid4().hex
    slow, _ = source_repo({"Dockerfile": "FROM local/busybox:latest\n"
                                         f"RUN echo sleeping-{nonce} && sleep 3\n"})
    other, _ = source_repo()
    write_rules("repositories:\n"
                + rules_for("it/term-running", f"file://{slow}", unique_image("term"))
                .removeprefix("repositories:\n")
                + rules_for("it/term-queued", f"file://{other}", unique_image("term2"))
                .removeprefix("repositories:\n"))
    running, waiting = (client.post("/api/builds", json={"repository": name, "ref": "main"},
                                    headers=AUTH).get_json()["builds"][0]
                        for name in ("it/term-running", "it/term-queued"))
    wait_for_log(client, running["id"], f"sleeping-{nonce}\n")  # its output, not its line

    lonely.send_signal(signal.SIGTERM)

    assert wait_for_build(client, running["id"], deadline=60)["status"] == "success"
    assert lonely.wait(timeout=30) == 0
    left = client.get(f"/api/builds/{waiting['id']}").get_json()
    assert (left["status"], left["started_at"]) == ("queued", None)


def test_a_registry_that_hangs_during_the_push_is_retried_then_fails_clearly(
    isolated_stack: Callable[..., tuple[FlaskClient, RulesWriter, subprocess.Popen[bytes]]],
    source_repo: Callable[..., tuple[Path, str]], stalling_server: int,
) -> None:
    client, write_rules, _ = isolated_stack(9, AUTOBUILD_ENGINE_TIMEOUT="3")
    bare, _ = source_repo()
    image = f"127.0.0.1:{stalling_server}/team/hanging"
    write_rules(rules_for("it/hanging", f"file://{bare}", image, main_rule(cache="false")))
    queued = client.post("/api/builds", json={"repository": "it/hanging", "ref": "main"},
                         headers=AUTH).get_json()["builds"][0]

    build = wait_for_build(client, queued["id"], deadline=90)

    assert build["status"] == "failed"
    engine = os.environ.get("DOCKER_HOST") or DOCKER_HOST
    assert build["error"] == (f"pushing {image}:latest failed: the Docker engine at {engine} "
                              "sent nothing for 3 s (read timed out; AUTOBUILD_ENGINE_TIMEOUT)")
    log = client.get(f"/api/builds/{build['id']}/log").get_data(as_text=True)
    assert log.count("retrying in") == 3
    assert "internal error" not in log


def test_an_engine_stopped_during_a_build_fails_it_naming_the_engine_then_builds_again(
    isolated_stack: Callable[..., tuple[FlaskClient, RulesWriter, subprocess.Popen[bytes]]],
    source_repo: Callable[..., tuple[Path, str]], private_engine: SecondEngine,
) -> None:
    client, write_rules, _ = isolated_stack(10, DOCKER_HOST=private_engine.docker_host)
    nonce = uuid.uuid4().hex
    bare, first = source_repo({"delay": "300", "Dockerfile": (
        f"FROM {REGISTRY}/local/busybox:latest\nCOPY delay /delay\n"  # a fresh engine's BuildKit
        f"RUN echo sleeping-{nonce} && sleep $(cat /delay)\n")})
    write_rules(rules_for("it/engine-stop", f"file://{bare}", unique_image("enginestop")))
    queued = push_delivery(client, "it/engine-stop", "refs/heads/main", "0" * 40, first,
                           f"engine-{first}")["builds"][0]  # type: ignore[index]
    wait_for_log(client, queued["id"], f"sleeping-{nonce}\n")

    private_engine.stop()

    build = wait_for_build(client, queued["id"], deadline=60)
    assert build["status"] == "failed"
    engine_gone = f"the connection to the Docker engine at {private_engine.docker_host} failed: "
    assert build["error"].startswith(engine_gone), build["error"]
    work = bare.parent / "work"
    second = commit_files(work, {"delay": "0"}, "no delay")
    git("push", "-q", "origin", "main", cwd=work)
    while_down = push_delivery(client, "it/engine-stop", "refs/heads/main", first, second,
                               f"engine-down-{second}")["builds"][0]  # type: ignore[index]
    refused = wait_for_build(client, while_down["id"], deadline=60)
    assert refused["status"] == "failed"
    assert refused["error"].startswith(engine_gone), refused["error"]

    private_engine.start()
    again = client.post(f"/api/builds/{while_down['id']}/retry", headers=AUTH
                        ).get_json()["builds"][0]
    rebuilt = wait_for_build(client, again["id"], deadline=120)
    assert rebuilt["status"] == "success", rebuilt["error"]
    assert rebuilt["commit"] == second


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs, mounted for the worker's var folder (mirrors and workspaces)."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs (these tests run as root): {mounted.stderr}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=True)


def leftovers(folder: Path) -> list[str]:
    """What remains in the worker's mirrors and workspaces, but lock files."""
    return sorted(str(path.relative_to(folder)) for sub in ("mirrors", "work")
                  for path in (folder / sub).glob("*") if not path.name.endswith(".lock"))


def test_a_full_disk_during_fetch_or_checkout_fails_clearly_and_leaves_nothing(
    small_disk: Path,
    isolated_stack: Callable[..., tuple[FlaskClient, RulesWriter, subprocess.Popen[bytes]]],
    source_repo: Callable[..., tuple[Path, str]],
) -> None:
    client, write_rules, _ = isolated_stack(12, AUTOBUILD_VAR_DIR=str(small_disk))
    noise, _ = source_repo({"noise.bin": os.urandom(6 << 20).hex()})  # no packing
    zeros, _ = source_repo({"zeros.bin": "0" * (8 << 20)})  # a tiny pack, a big checkout
    write_rules("repositories:\n" + "".join(
        rules_for(name, f"file://{bare}", unique_image("disk")).removeprefix("repositories:\n")
        for name, bare in (("it/noise", noise), ("it/zeros", zeros))))

    fetched, checked_out = (
        wait_for_build(client, client.post("/api/builds", json={"repository": name,
                                                                "ref": "main"},
                                           headers=AUTH).get_json()["builds"][0]["id"])
        for name in ("it/noise", "it/zeros"))

    assert fetched["status"] == checked_out["status"] == "failed"
    assert fetched["error"].startswith(
        f"could not fetch file://{noise}: the worker's disk is full (no space left under "
        f"{small_disk}/mirrors): "), fetched["error"]
    assert checked_out["error"].startswith(
        f"could not check out {checked_out['commit'][:12]}: the worker's disk is full (no "
        f"space left under {small_disk}/work/{checked_out['id']}-"), checked_out["error"]
    kept = MirrorCheckout(small_disk / "mirrors", timeout=1, log=print).mirror_path(
        f"file://{zeros}")
    assert leftovers(small_disk) == [f"mirrors/{kept.name}"], "only the mirror that fit"
