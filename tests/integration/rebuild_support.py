"""The real stack for base-image rebuilds: registries on their own ports (one sending
notifications to a live web server running `create_app()`), distinct base images, manifests."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from service import create_app
from tests.conftest import API_TOKEN
from tests.integration.conftest import BASE_IMAGE, free_port
from tests.waiting import wait_until

REGISTRY_TOKEN = "it-registry-notify-token-7c1d"  # noqa: S105 - the tests' own registry token
MANIFEST_TYPES = ("application/vnd.docker.distribution.manifest.v2+json, "
                  "application/vnd.oci.image.manifest.v1+json")


def start_registry(folder: Path, *, notify_url: str | None = None) -> tuple[str, Any]:
    """A docker-registry on a free loopback port (sending notifications to `notify_url`)."""
    address = f"127.0.0.1:{free_port()}"
    config = ("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
              f"    rootdirectory: {folder / 'data'}\nhttp:\n  addr: {address}\n")
    if notify_url:
        config += ("notifications:\n  endpoints:\n    - name: autobuild\n"
                   f"      url: {notify_url}\n      headers:\n"
                   f"        Authorization: [Bearer {REGISTRY_TOKEN}]\n"
                   "      timeout: 10s\n      threshold: 3\n      backoff: 1s\n"
                   "      ignore:\n        mediatypes: [application/octet-stream]\n"
                   "        actions: [pull]\n")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yml").write_text(config)
    log = open(folder / "registry.log", "wb")  # noqa: SIM115 - closed by stop_registry
    process = subprocess.Popen(["docker-registry", "serve", str(folder / "config.yml")],
                               stdout=log, stderr=subprocess.STDOUT)

    def answers() -> bool:
        if process.poll() is not None:
            pytest.fail(f"docker-registry exited at start: {(folder / 'registry.log').read_text()}")
        try:
            return requests.get(f"http://{address}/v2/", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    wait_until(answers, 20, "the test registry answering")
    return address, (process, log)


def stop_registry(handle: Any) -> None:
    process, log = handle
    process.terminate()
    process.wait(timeout=10)
    log.close()


@dataclass
class NotifyingStack:
    """A web server for `app` that the registry at `registry` notifies of every tag push."""

    app: Flask
    rules_path: Path
    registry: str
    server_url: str

    def write_rules(self, text: str) -> None:
        """(Re)write the rules the app reads, and make it read them now."""
        self.rules_path.write_text(text)
        self.app.extensions["rules"]._checked = 0.0
        later = time.time() + 1
        os.utime(self.rules_path, (later, later))
        assert self.app.extensions["rules"].error is None


def web_app(worker_env: dict[str, str], rules_path: Path, **config: Any) -> Flask:
    """The app the shared worker's builds are queued by (its database and Redis)."""
    rules_path.write_text("repositories: []\n")
    return create_app({"TESTING": True, "DATABASE_URL": worker_env["DATABASE_URL"],
                       "REDIS_URL": worker_env["REDIS_URL"], "RULES_PATH": str(rules_path),
                       "API_TOKEN": API_TOKEN, "DB_UPGRADE": "auto", **config})


@pytest.fixture(scope="module")
def notifying_stack(worker: object, worker_env: dict[str, str],
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotifyingStack]:
    """create_app() served on a free port, and a registry notifying it of pushes."""
    folder = tmp_path_factory.mktemp("notifying")
    app = web_app(worker_env, folder / "rules.yaml", REGISTRY_TOKEN=REGISTRY_TOKEN)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    registry, handle = start_registry(folder / "registry", notify_url=(
        f"http://127.0.0.1:{server.server_port}/hooks/registry"))
    yield NotifyingStack(app, folder / "rules.yaml", registry,
                         f"http://127.0.0.1:{server.server_port}")
    stop_registry(handle)
    server.shutdown()
    thread.join(timeout=10)


def push_base(client: docker.DockerClient, reference: str) -> str:
    """Push a new version of a base image, different from every earlier one (a file with a
    fresh marker on top of the local busybox), as someone updating the base would; returns the
    registry's manifest digest."""
    container = client.containers.create(BASE_IMAGE, command=["true"])
    try:
        data = io.BytesIO()
        with tarfile.open(fileobj=data, mode="w") as archive:
            content = uuid.uuid4().hex.encode()
            info = tarfile.TarInfo("base-version")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
        container.put_archive("/", data.getvalue())
        repository, _, tag = reference.rpartition(":")
        container.commit(repository=repository, tag=tag)
    finally:
        container.remove(force=True)
    for chunk in client.api.push(repository, tag, stream=True, decode=True):
        assert "error" not in chunk, chunk
    return manifest(reference)["digest"]


def manifest(reference: str) -> dict[str, Any]:
    """The registry's image manifest of `host/repo:tag` (and its digest)."""
    host, _, rest = reference.partition("/")
    repo, _, tag = rest.rpartition(":")
    answer = requests.get(f"http://{host}/v2/{repo}/manifests/{tag}", timeout=10,
                          headers={"Accept": MANIFEST_TYPES})
    answer.raise_for_status()
    return {**answer.json(), "digest": answer.headers["Docker-Content-Digest"]}


def layers(reference: str) -> list[str]:
    """The layer digests of an image in the registry, bottom first."""
    return [layer["digest"] for layer in manifest(reference)["layers"]]
