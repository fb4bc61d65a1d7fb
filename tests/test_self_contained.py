"""The repository alone runs its tests: no file outside it (like ../shared) is needed."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.fixtures import FIXTURES_DIR, manifest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("row", manifest(), ids=lambda row: row.file)
def test_every_sample_is_byte_exact(row: object) -> None:
    body = row.body  # type: ignore[attr-defined]
    assert hashlib.sha256(body).hexdigest() == row.entry["sha256"]  # type: ignore[attr-defined]
    assert len(body) == row.entry["bytes"]  # type: ignore[attr-defined]


def test_samples_live_inside_the_repository() -> None:
    assert ROOT in FIXTURES_DIR.resolve().parents


def _project_files() -> list[str]:
    """What a clone of the repository holds: tracked files plus new ones git would add."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                         cwd=ROOT, check=True, capture_output=True).stdout
    return [name for name in out.decode().split("\0") if name and (ROOT / name).is_file()]


def test_a_copy_without_anything_beside_it_collects_and_passes_the_corpus_tests(
        tmp_path: Path) -> None:
    """Copy the project alone into an empty folder, then collect every test and run the ones
    that read the webhook corpus; nothing may reach outside the copy."""
    copy = tmp_path / "lonely" / "autobuild"
    for name in _project_files():
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    assert not (copy.parent / "shared").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    where = subprocess.run(
        [sys.executable, "-c", "import core, tests.core.fixtures as f; print(core.__file__); "
         "print(f.FIXTURES_DIR)"], cwd=copy, env=env, capture_output=True, text=True, check=True)
    assert all(line.startswith(str(copy)) for line in where.stdout.split()), where.stdout
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    collected = subprocess.run([*command, "--collect-only"], cwd=copy, env=env,
                               capture_output=True, text=True, timeout=300)
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    ran = subprocess.run([*command, "tests/core/test_forges.py", "tests/core/test_signatures.py"],
                         cwd=copy, env=env, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert " passed" in ran.stdout.splitlines()[-1]
