"""A registry that reports every push, for tests of several build machines (their engines:
tests/integration/engines.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import requests
from pytest_httpserver import HTTPServer

from tests.integration.conftest import free_port
from tests.waiting import wait_until


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
