"""The builder port: what to build (BuildSpec), what it made (BuiltImage), who builds it.

No I/O here; workers/buildkit.py implements the port with the engine's BuildKit, workers/classic.py
with its classic builder. Specs are not serialisable on purpose (no to_dict): they hold resolved
secret values and live only inside the worker process that builds them.

    ImageBuildError (core.errors)
    └── BuildStopped        the builder's stop() was called while (or before) the build ran
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

from core.build_limits import BuildLimits
from core.build_options import network_problem, platform_problem, secret_id_problem
from core.errors import ImageBuildError

Log = Callable[[str], None]


class BuildStopped(ImageBuildError):
    """The build was stopped (cancelled or timed out) while it ran."""


@dataclass(frozen=True)
class SecretSource:
    """A build secret for RUN --mount=type=secret,id=<id>: a resolved value or a worker's file."""

    id: str
    value: str | None = field(default=None, repr=False)
    file: str | None = None

    def __post_init__(self) -> None:
        if problem := secret_id_problem(self.id):
            raise ValueError(problem)
        if (self.value is None) == (self.file is None):
            raise ValueError(f"build secret {self.id!r} needs exactly one of value or file")


@dataclass(frozen=True)
class BuildSpec:
    """What to build: everything the builder needs, nothing about how the build was triggered."""

    context_dir: Path
    dockerfile: str                         # relative to context_dir
    tag: str                                # full reference of the local image (registry/repo:tag)
    build_args: tuple[tuple[str, str], ...] = ()
    target: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    pull: bool = False
    no_cache: bool = False
    cache_from: tuple[str, ...] = ()         # previous images of the rule, for layer cache
    secrets: tuple[SecretSource, ...] = ()
    platforms: tuple[str, ...] = ()          # () = the engine's own platform
    network: str = "default"                # default | none | host
    docker_config: str | None = None        # a DOCKER_CONFIG folder holding only this build's
                                            # registry credentials
    limits: BuildLimits = BuildLimits()     # memory and CPUs for the RUN steps

    def __post_init__(self) -> None:
        if problem := network_problem(self.network):
            raise ValueError(f"network {problem}")
        if not self.tag or any(c.isspace() for c in self.tag):
            raise ValueError(f"invalid image reference {self.tag!r}")
        if not self.dockerfile or PurePosixPath(self.dockerfile).is_absolute():
            raise ValueError(f"dockerfile must be relative to the context, not {self.dockerfile!r}")
        for platform in self.platforms:
            if problem := platform_problem(platform):
                raise ValueError(problem)
        if len(set(self.platforms)) != len(self.platforms):
            raise ValueError("platforms are listed more than once")
        ids = [secret.id for secret in self.secrets]
        if len(set(ids)) != len(ids):
            raise ValueError("build secret ids are listed more than once")


@dataclass(frozen=True)
class BuiltImage:
    """What a build produced: one local image, or one local image per platform."""

    image_id: str                            # single platform: the local image id (tagged `tag`);
                                             # multi-platform: the first platform's image id
    platform_images: tuple[tuple[str, str], ...] = ()   # multi-platform: (platform, local ref)
    resolved_bases: tuple[tuple[str, str], ...] = ()    # (FROM reference as BuildKit spelt it,
                                                        # the digest it resolved) from its log


class ImageBuilder(Protocol):
    """Builds one BuildSpec into local images, streaming output into `log`."""

    def build(self, spec: BuildSpec, *, log: Log) -> BuiltImage:
        """Build `spec`; ImageBuildError naming what failed, BuildStopped once stopped."""
        ...

    def stop(self) -> bool:
        """End the running build from any thread, so that build() raises BuildStopped; False
        when this builder cannot stop a build by itself (its caller must end the process)."""
        ...
