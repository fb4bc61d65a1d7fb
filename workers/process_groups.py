"""The child processes of a build (hooks, docker CLI): each in a process group of its own, ended
with the build so that none is left behind (process I/O).

A child runs in its own group, so a hook's timeout or a BuildKit stop can signal it and whatever
it started. Its group is tracked while it runs, and as soon as the child exits the rest of its
group (a hook's background jobs) is killed, before the child is reaped, so the group id cannot
have been reused.
`end_this_build` kills every tracked group and then the work-horse's own group, which RQ made for
it and which holds git and its helpers, itself last. A child is also killed when the thread that
started it dies (PR_SET_PDEATHSIG), which covers a work-horse killed from outside.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

_PR_SET_PDEATHSIG = 1
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:  # not glibc: the process groups are still ours to end
    _LIBC = None

_lock = threading.Lock()
_groups: set[int] = set()


def _dies_with(parent: int) -> Callable[[], None]:
    def in_child() -> None:
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)
    return in_child


def start(args: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None
          ) -> subprocess.Popen[bytes]:
    """Start `args` in a new session and process group, output (stdout and stderr) on one
    pipe, tracked until `finish`. Start it from the thread that waits for it (PDEATHSIG)."""
    process = subprocess.Popen(list(args), env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True, preexec_fn=_dies_with(os.getpid()))
    with _lock:
        _groups.add(process.pid)
    threading.Thread(target=_end_group_with, args=(process,), daemon=True,
                     name=f"group-{process.pid}").start()
    return process


def _end_group_with(process: subprocess.Popen[bytes]) -> None:
    """Once the child exits, kill what it left in its group: a background job holding the
    output pipe would otherwise keep its reader waiting."""
    try:
        os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
    except ChildProcessError:
        return
    if process.returncode is None:
        _kill_group(process.pid, signal.SIGKILL)


def signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    """Send `signum` to the child's whole group while the child is not yet reaped."""
    if process.returncode is None:
        _kill_group(process.pid, signum)


def finish(process: subprocess.Popen[bytes]) -> int:
    """Wait for the child to exit, kill what is left of its group, reap it; its exit code."""
    try:
        os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
    except ChildProcessError:  # already reaped (Popen.poll from another thread)
        pass
    _kill_group(process.pid, signal.SIGKILL)
    code = process.wait()
    with _lock:
        _groups.discard(process.pid)
    return code


def stop(process: subprocess.Popen[bytes]) -> int:
    """Kill the child's whole group now and reap the child; its exit code."""
    signal_group(process, signal.SIGKILL)
    return finish(process)


def running_groups() -> frozenset[int]:
    """The process groups of the children running now."""
    with _lock:
        return frozenset(_groups)


def end_this_build() -> NoReturn:
    """Kill every child's group, then this work-horse's own group (git included) and itself."""
    for group in running_groups():
        _kill_group(group, signal.SIGKILL)
    if os.getpgrp() == os.getpid():  # RQ's work-horse leads its own group
        os.killpg(os.getpid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
    raise SystemExit("killed")  # unreachable: SIGKILL cannot be caught


def _kill_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except (ProcessLookupError, PermissionError):
        pass
