"""A registry that needs a login (htpasswd, the same flow as Docker Hub's), for push and pull
tests; tests/integration/conftest.py offers `private_registry` to every test module."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import bcrypt
import pytest
import requests

from tests.integration.conftest import REGISTRY_PASSWORD, REGISTRY_USER, free_port
from tests.waiting import wait_until


@pytest.fixture(scope="module")
def private_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A docker-registry on its own loopback port that only lets the builder user push."""
    folder = tmp_path_factory.mktemp("private-registry")
    hashed = bcrypt.hashpw(REGISTRY_PASSWORD.encode(), bcrypt.gensalt(rounds=5)).decode()
    (folder / "htpasswd").write_text(f"{REGISTRY_USER}:{hashed}\n")
    address = f"127.0.0.1:{free_port()}"
    (folder / "config.yml").write_text(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {folder / 'data'}\nhttp:\n  addr: {address}\n"
        f"auth:\n  htpasswd:\n    realm: autobuild-tests\n    path: {folder / 'htpasswd'}\n")
    process = subprocess.Popen(["docker-registry", "serve", str(folder / "config.yml")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def asks_for_login() -> bool:
        if process.poll() is not None:
            pytest.fail("the htpasswd registry exited at start")
        try:
            return requests.get(f"http://{address}/v2/", timeout=2).status_code == 401
        except requests.ConnectionError:
            return False

    wait_until(asks_for_login, 20, "the htpasswd registry answering 401")
    yield address
    process.terminate()
    process.wait(timeout=10)
