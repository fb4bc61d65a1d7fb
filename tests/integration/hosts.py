"""Pieces of a second build machine on this one: a Docker engine of its own (its own socket,
data root, exec root and pid file, no bridge), and a registry that reports every push.

The engine is Debian's dockerd beside the main one (docs: ../shared/docs/machine.md, "A second
Docker engine"). Nothing is pulled: the base image is copied into it with `docker save | docker
load` through docker-py. It is always stopped by its pid file and its folders removed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import docker
import pytest
import requests
from pytest_httpserver import HTTPServer

from tests.integration.conftest import free_port
from tests.waiting import wait_until

ENGINE_START_SECONDS = 60.0


class SecondEngine:
    """A dockerd of its own, reached at `docker_host` (DOCKER_HOST for its worker)."""

    def __init__(self) -> None:
        # a short folder: a UNIX socket path must stay under 108 bytes
        self.folder = Path(tempfile.mkdtemp(prefix="ab-engine-", dir="/tmp"))
        self.socket = self.folder / "docker.sock"
        self.pidfile = self.folder / "docker.pid"
        self.docker_host = f"unix://{self.socket}"
        self.log = self.folder / "dockerd.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.client: docker.DockerClient | None = None

    def start(self) -> docker.DockerClient:
        """Start dockerd and wait until it answers; its client."""
        self.process = subprocess.Popen(
            ["dockerd", "--host", self.docker_host, "--data-root", str(self.folder / "data"),
             "--exec-root", str(self.folder / "exec"), "--pidfile", str(self.pidfile),
             "--bridge=none", "--iptables=false", "--ip-masq=false"],
            stdout=self.log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)

        def answers() -> docker.DockerClient | None:
            if self.process is not None and self.process.poll() is not None:
                pytest.fail(f"the second dockerd exited: {self.log.read_text()[-2000:]}")
            if not self.socket.exists():
                return None
            try:  # the client asks the engine's API version as it is made
                return docker.DockerClient(base_url=self.docker_host, timeout=120)
            except docker.errors.DockerException:
                return None

        self.client = wait_until(answers, ENGINE_START_SECONDS, "the second dockerd answering",
                                 interval=0.3)
        return self.client

    def load(self, source: docker.DockerClient, reference: str) -> None:
        """Copy `reference` from the `source` engine into this one (docker save | docker load)."""
        assert self.client is not None
        self.client.api.load_image(source.api.get_image(reference))
        assert self.client.images.get(reference).tags == [reference]

    def stop(self) -> None:
        """Stop dockerd by its pid file (SIGTERM, then SIGKILL after 30 s); idempotent."""
        if self.client is not None:
            self.client.close()
            self.client = None
        pid = int(self.pidfile.read_text()) if self.pidfile.exists() else None
        if self.process is not None and pid is None:
            pid = self.process.pid
        if pid is not None:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if self.process is not None:
                try:
                    self.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=10)
        self.process = None

    def remove(self) -> None:
        """Stop it and delete its folders (images, containers, BuildKit state)."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def second_engine(source: docker.DockerClient, *images: str) -> Iterator[SecondEngine]:
    """A started SecondEngine holding `images` from `source`; stopped and removed after."""
    engine = SecondEngine()
    try:
        engine.start()
        for reference in images:
            engine.load(source, reference)
        yield engine
    finally:
        engine.remove()


class PushCounter:
    """A docker-registry on a free loopback port whose notifications go to `server`: which
    manifests were pushed, by repository and tag."""

    def __init__(self, server: HTTPServer, folder: Path) -> None:
        self.server = server
        self.address = f"127.0.0.1:{free_port()}"
        server.expect_request("/registry-events", method="POST").respond_with_data("")
        (folder / "config.yml").write_text(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {folder / 'data'}\nhttp:\n  addr: {self.address}\n"
            "notifications:\n  endpoints:\n    - name: tests\n"
            f"      url: {server.url_for('/registry-events')}\n"
            "      timeout: 2s\n      threshold: 3\n      backoff: 1s\n")
        self.process = subprocess.Popen(["docker-registry", "serve", str(folder / "config.yml")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._answers, 20, "the counting registry answering")

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail("the counting registry exited at start")
        try:
            return requests.get(f"http://{self.address}/v2/", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def manifest_pushes(self) -> list[tuple[str, str]]:
        """(repository, tag) of every manifest push the registry reported, in order."""
        pushes = []
        for request, _ in self.server.log:
            for event in json.loads(request.get_data()).get("events", []):
                target = event.get("target", {})
                if event.get("action") == "push" and target.get("tag") and \
                        "manifest" in target.get("mediaType", ""):
                    pushes.append((target["repository"], target["tag"]))
        return pushes

    def close(self) -> None:
        """Stop the registry."""
        self.process.terminate()
        self.process.wait(timeout=10)
