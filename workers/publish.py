"""Pushing what a build made: every tag, or one manifest list per tag, retrying registry outages
and 5xx answers with backoff; authentication errors fail at once (registry I/O via ImageStore)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import TypeVar

from core.errors import PushError
from workers.build_spec import BuiltImage, Log
from workers.ports import ImageStore, PlatformDigests

PUSH_RETRY_DELAYS = (1.0, 3.0, 9.0)
TRANSIENT = re.compile(r"\b5\d\d\b|connection refused|connection reset|timed? ?out|EOF|"
                       r"unavailable|no such host|i/o timeout|connection to the Docker engine",
                       re.IGNORECASE)
T = TypeVar("T")


def with_retry(push: Callable[[], T], what: str, *, log: Log,
               delays: tuple[float, ...] = PUSH_RETRY_DELAYS) -> T:
    """`push()`, again after each delay while it fails with a transient PushError."""
    for attempt in range(len(delays) + 1):
        log(f"Pushing {what}\n")
        try:
            return push()
        except PushError as exc:
            if attempt == len(delays) or not TRANSIENT.search(exc.user_message):
                raise
            log(f"Push failed ({exc.user_message}); retrying in {delays[attempt]:.0f} s\n")
            time.sleep(delays[attempt])
    raise AssertionError("unreachable")


def push_tags(images: ImageStore, tags: tuple[str, ...], *,
              auth_config: Mapping[str, str] | None, log: Log,
              delays: tuple[float, ...] = PUSH_RETRY_DELAYS) -> str:
    """Push every tag of a single-platform build; the first tag's manifest digest."""
    digest = ""
    for reference in tags:
        pushed = with_retry(partial(images.push, reference, auth_config=auth_config),
                            reference, log=log, delays=delays)
        log(f"Pushed {reference}@{pushed}\n")
        digest = digest or pushed
    return digest


def push_platforms(images: ImageStore, built: BuiltImage, tags: tuple[str, ...], *,
                   docker_config: str | None, log: Log,
                   delays: tuple[float, ...] = PUSH_RETRY_DELAYS) -> tuple[str, PlatformDigests]:
    """Push a multi-platform build as one manifest list per tag; (list digest, platform
    digests)."""
    platforms = ", ".join(platform for platform, _ in built.platform_images)
    return with_retry(partial(images.push_list, built.platform_images, tags,
                              docker_config=docker_config),
                      f"{', '.join(tags)} as a manifest list of {platforms}", log=log,
                      delays=delays)
