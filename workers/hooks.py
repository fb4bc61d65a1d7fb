"""Docker Hub build hooks: hooks/<phase> scripts beside the Dockerfile (process I/O).

They run arbitrary code on the worker, so only for repositories that set `hooks: true`, each
in its own process group (workers/process_groups.py), with a timeout, output into the build log;
what a hook leaves running is killed when it exits, and all of it when the build is stopped.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from core.errors import BuildError
from core.rules_values import HOOK_VARIABLES
from workers import process_groups

ORDER = ("post_checkout", "pre_build", "build", "post_build", "pre_test", "test", "post_test",
         "pre_push", "push", "post_push")
TEST_HOOKS = ("pre_test", "test", "post_test")
"""Docker Hub's test phase, between post_build and pre_push: a failing hook fails the build,
so nothing is pushed."""


class HookError(BuildError):
    """A hook exited non-zero or ran out of time."""

    phase = "running hooks"


class Hooks:
    """The hooks/ folder of one build and how to run its scripts."""

    def __init__(self, folder: Path, *, env: Mapping[str, str], log: Callable[[str], None],
                 timeout: int) -> None:
        self.folder = folder
        self.workdir = folder.parent
        self.env = dict(env)
        self.log = log
        self.timeout = timeout

    def has(self, name: str) -> bool:
        """Whether hooks/<name> exists as a regular file inside the checkout."""
        path = self.folder / name
        return path.is_file() and not path.is_symlink()

    def run(self, name: str) -> bool:
        """Run hooks/<name> if present (made executable, as Docker Hub does); False if absent."""
        if not self.has(name):
            return False
        path = self.folder / name
        path.chmod(path.stat().st_mode | 0o111)
        self.log(f"Executing {name} hook...\n")
        process = process_groups.start([str(path)], env=self.env, cwd=self.workdir)
        timer = threading.Timer(self.timeout, process_groups.signal_group,
                                (process, signal.SIGKILL))
        timer.start()
        try:
            assert process.stdout is not None
            with process.stdout:
                for line in iter(process.stdout.readline, b""):
                    self.log(line.decode("utf-8", "replace"))
        except BaseException:
            timer.cancel()
            process_groups.stop(process)
            raise
        timed_out = not timer.is_alive()
        timer.cancel()
        code = process_groups.finish(process)  # background jobs of the hook end with it
        if timed_out and code != 0:
            raise HookError(f"the {name} hook did not finish within {self.timeout} s")
        if code != 0:
            raise HookError(f"the {name} hook failed with exit code {code}")
        return True

    def run_tests(self) -> None:
        """Run pre_test, test and post_test, those present, in Docker Hub's order."""
        for name in TEST_HOOKS:
            self.run(name)

    def add_env(self, extra: Mapping[str, str]) -> None:
        """Give the hooks the build's environment variables (the rules' `env`, secret ones
        resolved); Docker Hub's own variables stay as Autobuild set them."""
        own = {key: self.env[key] for key in HOOK_VARIABLES if key in self.env}
        self.env.update(extra)
        self.env.update(own)


class NoHooks:
    """Stands in when hooks are off or absent: nothing runs, default steps apply."""

    def run(self, name: str) -> bool:
        """Nothing to run."""
        return False

    def run_tests(self) -> None:
        """No test hooks to run."""

    def add_env(self, extra: Mapping[str, str]) -> None:
        """No hook to give variables to."""


def hook_environment(*, source_ref: str, commit: str, message: str, image: str, tag: str,
                     dockerfile: str) -> dict[str, str]:
    """The variables Docker Hub sets for hooks, on top of a minimal inherited environment."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "DOCKER_HOST", "DOCKER_CONFIG", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        SOURCE_BRANCH=source_ref,
        SOURCE_COMMIT=commit,
        COMMIT_MSG=message,
        DOCKER_REPO=image,
        DOCKERFILE_PATH=dockerfile,
        DOCKER_TAG=tag,
        CACHE_TAG=tag,
        IMAGE_NAME=f"{image}:{tag}",
    )
    return env
