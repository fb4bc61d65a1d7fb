"""The ports the build pipeline talks to, besides the builder's (workers/build_spec.py).

No I/O here. Real adapters: workers/checkout.py MirrorCheckout (SourceCheckout),
workers/images.py DockerImages (ImageStore), workers/tools.py EngineTools (WorkerTools); tests
use the recording fakes of tests/fakes.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from workers.build_spec import ImageBuilder, Log

PlatformDigests = tuple[tuple[str, str], ...]


class SourceCheckout(Protocol):
    """Checks out exact commits of a repository, and answers git's questions about its history
    (which build of a ref is newest: workers/ordering.py)."""

    def update(self, url: str, commit: str) -> Path:
        """Make the mirror hold `commit`; CloneError when the repository does not have it."""
        ...

    def refresh(self, url: str, commits: set[str]) -> None:
        """Make the mirror's refs current (and hold `commits` if the forge still has them)."""
        ...

    def has_commit(self, url: str, commit: str) -> bool:
        """Whether the mirror holds `commit`."""
        ...

    def ref_head(self, url: str, ref: str) -> str | None:
        """The commit `ref` points at (a tag peeled), or None when it is gone."""
        ...

    def is_ancestor(self, url: str, ancestor: str, descendant: str) -> bool:
        """Whether `ancestor` is a proper ancestor of `descendant`."""
        ...

    def checkout(self, url: str, commit: str, dest: Path, *, submodules: bool = False,
                 lfs: bool = False) -> Path:
        """Check out `commit` into the new folder `dest`; CloneError when it cannot."""
        ...

    def head_commit(self, checkout: Path) -> str:
        """The commit a checkout is at (an annotated tag's target)."""
        ...

    def changed_files(self, url: str, before: str, after: str) -> list[str] | None:
        """Files changed between two commits; None when `before` is unknown."""
        ...


class ImageStore(Protocol):
    """The engine's images and the registry: layer cache, tags, pushes, clean-up."""

    def ensure_local(self, reference: str, *, auth_config: Mapping[str, str] | None = None
                     ) -> bool:
        """Make a previous image available locally as layer cache; False when there is none."""
        ...

    def tag(self, image_id: str, reference: str) -> None:
        """Point `reference` at the image."""
        ...

    def push(self, reference: str, *, auth_config: Mapping[str, str] | None = None) -> str:
        """Push one reference; the registry's manifest digest, or PushError."""
        ...

    def push_list(self, platform_images: PlatformDigests, tags: tuple[str, ...], *,
                  docker_config: str | None) -> tuple[str, PlatformDigests]:
        """Push platform images as one manifest list per tag; (list digest, platform digests)."""
        ...

    def remove(self, references: tuple[str, ...]) -> None:
        """Remove local references (the registry keeps them)."""
        ...

    def image_id(self, reference: str) -> str:
        """The id of a local image a build hook made; ImageBuildError when it is missing."""
        ...

    def pushed_digest(self, reference: str) -> str:
        """The registry digest of a reference a push hook pushed; PushError when it did not."""
        ...

    def pull_bases(self, dockerfile: Path, *, pull: bool, build_args: Mapping[str, str],
                   pull_auths: Mapping[str, tuple[str, str]]) -> bool:
        """Pull the Dockerfile's bases on registries `pull_auths` has credentials for (for the
        classic builder); the `pull` to give the build then."""
        ...

    def fetch_by_digest(self, repository: str, digest: str, *,
                        auth_config: Mapping[str, str] | None = None) -> str:
        """The local id of `repository@digest` (pulled unless present), to push it again."""
        ...

    def base_digest(self, reference: str, *, auth_config: Mapping[str, str] | None = None
                    ) -> str | None:
        """The digest of base image `reference` a build on this engine used: the local
        image's (as pulled or pushed), else the registry's; None for a local-only image."""
        ...


class WorkerTools(Protocol):
    """Makes the adapters one build uses, each with that build's log and credentials."""

    def checkout(self, *, log: Log, git_env: Mapping[str, str]) -> SourceCheckout:
        """The checkout, with git's credentials for this build."""
        ...

    def builder(self, name: str) -> ImageBuilder:
        """A new builder for one build: `buildkit` or `classic`."""
        ...

    def images(self, *, log: Log) -> ImageStore:
        """The engine and registry operations, logging into `log`."""
        ...

    def engine_problem(self) -> str | None:
        """None when the Docker engine answers; else what is wrong with it, naming it."""
        ...
