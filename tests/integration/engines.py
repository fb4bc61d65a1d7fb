"""A private Docker engine for one test: its own dockerd, socket, data and exec roots, and no
bridge (as these machines require), with local/busybox loaded so nothing is pulled."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from tests.waiting import wait_until

BASE_IMAGE = "local/busybox:latest"


class PrivateEngine:
    """A dockerd under `root`, stopped and started again at will."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.host = f"unix://{root}/docker.sock"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start dockerd and wait until it answers."""
        log = open(self.root / "dockerd.log", "ab")  # noqa: SIM115 - the process owns it
        self.process = subprocess.Popen(
            ["dockerd", "--host", self.host, "--data-root", str(self.root / "data"),
             "--exec-root", str(self.root / "exec"), "--pidfile", str(self.root / "docker.pid"),
             "--bridge=none", "--iptables=false", "--ip-masq=false"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self.answers, 60, f"dockerd at {self.host} answering",
                   describe=lambda: (self.root / "dockerd.log").read_text()[-2000:])

    def answers(self) -> bool:
        """Whether the engine answers a ping."""
        if self.process is None or self.process.poll() is not None:
            return False
        try:
            client = docker.APIClient(base_url=self.host, timeout=5, version="auto")
        except docker.errors.DockerException:  # not up (yet)
            return False
        try:
            return bool(client.ping())
        except Exception:  # noqa: BLE001 - going down
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """Stop dockerd (SIGTERM, as systemctl stop does) and wait for it to exit."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@pytest.fixture
def private_engine(tmp_path_factory: pytest.TempPathFactory,
                   docker_client: docker.DockerClient) -> Iterator[PrivateEngine]:
    """A running private engine holding the base image; stopped at the end of the test."""
    root = Path(tmp_path_factory.mktemp("engine"))
    engine = PrivateEngine(root)
    engine.start()
    try:
        client = docker.DockerClient(base_url=engine.host, timeout=120)
        client.images.load(b"".join(docker_client.images.get(BASE_IMAGE).save()))
        client.close()
        yield engine
    finally:
        engine.stop()


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
