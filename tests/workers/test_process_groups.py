"""A build's child processes end with it: background jobs, the groups of hooks and CLIs, and the
work-horse's own group (git)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from tests.integration.buildkit_support import is_running
from tests.waiting import wait_until
from workers import process_groups
from workers.docker_cli import stream


def test_a_background_job_does_not_outlive_its_child_nor_hold_its_reader(tmp_path: Path) -> None:
    pidfile = tmp_path / "background.pid"
    process = process_groups.start(
        ["/bin/sh", "-c", f"sleep 300 & echo $! > {pidfile}; echo started"], env=os.environ)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(str(stream(process, lines.append))))
    reader.start()

    reader.join(timeout=30)

    assert not reader.is_alive()
    assert lines == ["started\n", "0"]
    wait_until(lambda: not is_running(int(pidfile.read_text())), 10, "the background sleep's end")
    assert process.pid not in process_groups.running_groups()


def test_stop_kills_the_whole_group_and_reaps_the_child(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    process = process_groups.start(
        ["/bin/sh", "-c", f"sleep 300 & echo $! > {pidfile}; wait"], env=os.environ)
    wait_until(lambda: pidfile.exists() and pidfile.read_text().strip() != "", 10,
               "the grandchild's start")

    code = process_groups.stop(process)

    assert code == -9
    wait_until(lambda: not is_running(int(pidfile.read_text())), 10, "the grandchild's end")


HORSE = """
import os, subprocess, sys, time
from pathlib import Path
from workers import process_groups
hook = process_groups.start(["/bin/sh", "-c", "sleep 301 & wait"], env=os.environ)
git = subprocess.Popen(["/bin/sh", "-c", "sleep 302 & wait"])  # like git: in the horse's group
def children(pid):
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
deadline = time.monotonic() + 20
while not (children(hook.pid) and children(git.pid)) and time.monotonic() < deadline:
    time.sleep(0.05)  # each shell has started its sleep
pids = [hook.pid, git.pid, *children(hook.pid), *children(git.pid)]
Path(sys.argv[1]).write_text(" ".join(map(str, pids)))
process_groups.end_this_build()
"""


def test_ending_a_build_leaves_no_process_behind(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    horse = subprocess.Popen([sys.executable, "-c", HORSE, str(pids)],
                             cwd=Path(__file__).parents[2],
                             process_group=0)  # its own group, as RQ makes a work-horse
    wait_until(lambda: pids.exists() and pids.read_text() != "", 20, "the children's start")
    descendants = {int(pid) for pid in pids.read_text().split()}

    assert horse.wait(timeout=30) == -9
    wait_until(lambda: not any(is_running(pid) for pid in descendants), 10, "every child's end",
               describe=lambda: f"alive: {[pid for pid in descendants if is_running(pid)]}")
    assert len(descendants) == 4
