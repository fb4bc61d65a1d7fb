"""`autobuild import dockerhub` as a user runs it: a real process, then `autobuild rules check`
and `explain` on what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPORT = {"objects": [{
    "provider": "Github", "owner": "docker", "repository": "docker-rust-hello",
    "autotests": "OFF", "repo_links": False, "deploykey": "ssh-rsa AAAA…",
    "envvars": [{"key": "ENV_NAME", "value": "ENV_VALUE"},
                {"key": "API_PASSWORD", "value": "hub-s3cret-value"}],
    "build_settings": [
        {"source_type": "Branch", "source_name": "main", "tag": "latest",
         "dockerfile": "Dockerfile", "build_context": "/", "autobuild": True, "nocache": False},
        {"source_type": "Tag", "source_name": "/^v([0-9.]+)$/", "tag": "v{\\1}",
         "dockerfile": "Dockerfile", "build_context": "/", "autobuild": True, "nocache": True},
    ]}]}


def autobuild(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the `autobuild` command in a fresh process."""
    return subprocess.run([sys.executable, "-m", "service.cli", *args], cwd=ROOT, text=True,
                          capture_output=True, env={**os.environ, **(env or {})}, timeout=60)


def test_import_writes_rules_that_check_and_explain(tmp_path: Path) -> None:
    export = tmp_path / "export.json"
    export.write_text(json.dumps(EXPORT))
    rules = tmp_path / "rules.yaml"

    done = autobuild("import", "dockerhub", str(export), "-o", str(rules))

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "set DOCKER_DOCKER_RUST_HELLO_WEBHOOK_SECRET for the web process" in done.stderr
    assert "set DOCKER_DOCKER_RUST_HELLO_API_PASSWORD for the workers" in done.stderr
    assert "hub-s3cret-value" not in rules.read_text() + done.stderr
    unset = autobuild("rules", "check", str(rules))
    assert unset.returncode == 1
    assert "environment variable DOCKER_DOCKER_RUST_HELLO_WEBHOOK_SECRET is not set" in (
        unset.stderr)
    env = {"DOCKER_DOCKER_RUST_HELLO_WEBHOOK_SECRET": "the-forge-webhook-secret"}
    checked = autobuild("rules", "check", str(rules), env=env)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip().endswith("OK (1 repositories, 2 rules)")
    explained = autobuild("rules", "explain", str(rules), "--repository",
                          "docker/docker-rust-hello", "v1.2.3", env=env).stdout
    assert ("[builds] rule 2 (tag /^v([0-9.]+)$/ → v{\\1}): matches: would push "
            "docker.io/docker/docker-rust-hello:v1.2.3") in explained
    assert "[no build] rule 1 (branch main → latest): branch v1.2.3 is not main" in explained


def test_import_prints_without_output_file(tmp_path: Path) -> None:
    export = tmp_path / "one.json"
    export.write_text(json.dumps(EXPORT["objects"][0]))  # type: ignore[index]
    done = autobuild("import", "dockerhub", str(export))
    assert done.returncode == 0
    assert done.stdout.startswith("# Autobuild rules imported from a Docker Hub")
    assert "\nrepositories:\n  # From Docker Hub: github docker/docker-rust-hello" in done.stdout


@pytest.mark.parametrize(("content", "message"), [
    pytest.param("{not json", "not JSON: Expecting property name enclosed in double quotes at "
                 "line 1 column 2", id="not-json"),
    pytest.param(json.dumps({"objects": [{"provider": "Github", "owner": "a",
                                          "repository": "b", "build_settings": [
                                              {"source_type": "Pull", "source_name": "x"}]}]}),
                 "objects[0].build_settings[0].source_type: unknown source type 'Pull'",
                 id="unknown-source-type"),
    pytest.param(json.dumps({"objects": [{"owner": "a", "repository": "b",
                                          "build_settings": []}]}),
                 "objects[0].provider: is missing", id="missing-field"),
])
def test_bad_exports_fail_with_the_field_named(tmp_path: Path, content: str,
                                               message: str) -> None:
    export = tmp_path / "bad.json"
    export.write_text(content)
    done = autobuild("import", "dockerhub", str(export))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"autobuild import dockerhub: {export}: {message}"), (
        done.stderr)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    done = autobuild("import", "dockerhub", str(tmp_path / "nope.json"))
    assert done.returncode == 1
    assert f"{tmp_path / 'nope.json'}: cannot read it: No such file or directory" in done.stderr
