"""A Docker engine of a test's own, beside the main one: its own dockerd, socket, data root,
exec root and pid file, and no bridge (these machines forbid one), as a second build machine
would have (docs: ../shared/docs/machine.md, "A second Docker engine"). Nothing is pulled: the
base image is copied into it with `docker save | docker load` through docker-py. It is always
stopped by its pid file and its folders removed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import docker
import docker.errors
import pytest

from tests.waiting import wait_until

BASE_IMAGE = "local/busybox:latest"
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


@pytest.fixture
def private_engine(docker_client: docker.DockerClient) -> Iterator[SecondEngine]:
    """A running engine of the test's own holding the base image; removed after the test."""
    with second_engine(docker_client, BASE_IMAGE) as engine:
        yield engine


def output_of(engine: docker.DockerClient, image: str, *command: str,
              platform: str | None = None) -> str:
    """What a command prints to stdout in a networkless container of `image`, removed after.

    Logs are read once the container has exited: following them from start can miss the output
    of a container that ends before the follow attaches (dockerd 20.10)."""
    container = engine.containers.create(image, list(command), network_mode="none",
                                         platform=platform)
    try:
        container.start()
        status = container.wait()["StatusCode"]
        output = bytes(container.logs(stdout=True, stderr=False)).decode()
        assert status == 0, f"{command} exited {status}: {output}"
        return output
    finally:
        container.remove(force=True)
