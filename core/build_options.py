"""The build options a rule or a worker may choose, and what makes them valid (no I/O).

Builders: `buildkit` (the engine's BuildKit through Debian's docker CLI) and `classic` (the
engine's legacy builder through docker-py). Only BuildKit mounts build secrets and builds for
other platforms. Networks are what RUN steps get; platforms are `os/arch[/variant]`; a queue is
the RQ queue a build waits on, served by the workers that can run it (`--queue arm64`).
"""

from __future__ import annotations

import re

from core.defaults import NOTIFY_QUEUE_NAME

BUILDKIT = "buildkit"
CLASSIC = "classic"
BUILDERS = (BUILDKIT, CLASSIC)
NETWORKS = ("default", "none", "host")
SECRET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*", re.ASCII)
PLATFORM = re.compile(r"[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?", re.ASCII)
QUEUE = re.compile(r"[a-z0-9][a-z0-9_-]*", re.ASCII)
QUEUE_MAX_LENGTH = 40


def builder_problem(name: str) -> str | None:
    """Why `name` is not a builder, or None."""
    if name in BUILDERS:
        return None
    return f"unknown builder {name!r} (known: {', '.join(BUILDERS)})"


def network_problem(name: str) -> str | None:
    """Why `name` is not a build network, or None."""
    if name in NETWORKS:
        return None
    return f"must be one of {', '.join(NETWORKS)}, not {name!r}"


def platform_problem(platform: str) -> str | None:
    """Why `platform` is not an `os/arch[/variant]` platform, or None."""
    if PLATFORM.fullmatch(platform):
        return None
    return f"invalid platform {platform!r} (expected os/arch[/variant], e.g. linux/arm64)"


def secret_id_problem(secret_id: str) -> str | None:
    """Why `secret_id` cannot be a build secret's id (RUN --mount=type=secret,id=…), or None."""
    if SECRET_ID.fullmatch(secret_id):
        return None
    return (f"invalid build secret id {secret_id!r} (letters, digits, '.', '_' and '-', "
            "starting with a letter or digit)")


def queue_problem(name: str) -> str | None:
    """Why `name` cannot be a build queue's name, or None."""
    if name == NOTIFY_QUEUE_NAME:
        return (f"{name!r} is the notifier's queue; builds need a queue of their own "
                "(e.g. arm64, large)")
    if len(name) > QUEUE_MAX_LENGTH or not QUEUE.fullmatch(name):
        return (f"invalid queue name {name!r} (lowercase letters, digits, '_' and '-', starting "
                f"with a letter or digit, at most {QUEUE_MAX_LENGTH} characters)")
    return None
