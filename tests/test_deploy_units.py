"""The shipped systemd units run exactly the Procfile's commands, and systemd accepts them."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNITS = ROOT / "deploy" / "systemd"
INSTALLED = "/opt/autobuild"


def procfile(name: str) -> list[str]:
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines()
                if x.startswith(f"{name}:"))
    return shlex.split(line.removeprefix(f"{name}:"))


def exec_start(unit: str) -> list[str]:
    line = next(x for x in (UNITS / unit).read_text().splitlines()
                if x.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def test_the_units_run_the_procfiles_commands() -> None:
    web = exec_start("autobuild-web.service")
    assert web[0] == f"{INSTALLED}/var/venv/bin/gunicorn"
    assert web[1:] == [word.replace("${AUTOBUILD_BIND:-127.0.0.1}:${PORT:-8000}",
                                    "${AUTOBUILD_BIND}:${PORT}") for word in procfile("web")[1:]]
    assert exec_start("autobuild-worker@.service") == [
        f"{INSTALLED}/var/venv/bin/python", "-m", "workers", "$AUTOBUILD_QUEUES"]
    assert procfile("worker") == ["python", "-m", "workers"]
    assert exec_start("autobuild-notifier.service") == [
        f"{INSTALLED}/var/venv/bin/python", *procfile("notifier")[1:]]
    assert exec_start("autobuild-scheduler.service") == [
        f"{INSTALLED}/var/venv/bin/python", *procfile("scheduler")[1:]]
    assert exec_start("autobuild-gc.service") == [f"{INSTALLED}/var/venv/bin/autobuild", "gc"]


def test_every_procfile_process_has_a_unit() -> None:
    names = {line.split(":", 1)[0] for line in (ROOT / "Procfile").read_text().splitlines()
             if line.strip()}
    units = {path.name.removeprefix("autobuild-").split(".")[0].rstrip("@")
             for path in UNITS.glob("autobuild-*.service")}
    assert names <= units, f"no systemd unit for {sorted(names - units)}"


def test_systemd_accepts_every_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is missing: scripts/setup.sh test installs systemd")
    for unit in UNITS.glob("autobuild*.[st]*"):
        (tmp_path / unit.name).write_text(unit.read_text().replace(INSTALLED, str(ROOT)))
    units = sorted(str(path) for path in tmp_path.iterdir())
    assert len(units) == 6
    done = subprocess.run([analyze, "verify", "--man=no", *units], capture_output=True,
                          text=True, timeout=60)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
