"""Image references in one canonical spelling, so a FROM line and a registry event compare (no I/O).

`busybox`, `docker.io/busybox:latest` and `index.docker.io/library/busybox` name one image;
`canonical` spells each `host/path:tag` (Docker Hub's host `docker.io`, its one-part names under
`library/`, no tag meaning `latest`), or `host/path@digest` for a pinned reference, the way
BuildKit prints them in its log.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.credentials import DOCKER_HUB_REGISTRY, registry_name
from core.tags import is_valid_reference

DEFAULT_TAG = "latest"


@dataclass(frozen=True)
class ImageRef:
    """One image reference taken apart: registry host, repository path, tag or digest."""

    host: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def repository(self) -> str:
        """`host/path`, the repository part."""
        return f"{self.host}/{self.path}"

    @property
    def pinned(self) -> bool:
        """Whether the reference names a digest: it never changes."""
        return self.digest is not None

    def canonical(self) -> str:
        """`host/path:tag`, or `host/path@digest` when pinned."""
        if self.digest is not None:
            return f"{self.repository}@{self.digest}"
        return f"{self.repository}:{self.tag or DEFAULT_TAG}"


def parse_image(reference: str) -> ImageRef | None:
    """The parts of a valid image reference, or None when it is not one."""
    if not is_valid_reference(reference):
        return None
    name, _, digest = reference.partition("@")
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, path = registry_name(first), rest
    else:
        host, path = DOCKER_HUB_REGISTRY, name
    path, tag = _split_tag(path)
    if host == DOCKER_HUB_REGISTRY and "/" not in path:
        path = f"library/{path}"
    return ImageRef(host=host, path=path, tag=tag, digest=digest or None)


def _split_tag(path: str) -> tuple[str, str | None]:
    repository, colon, tag = path.rpartition(":")
    return (repository, tag) if colon and "/" not in tag else (path, None)


def canonical(reference: str) -> str:
    """The canonical spelling of `reference` (itself when it is not a valid reference)."""
    parsed = parse_image(reference)
    return parsed.canonical() if parsed else reference


def same_image(a: str, b: str) -> bool:
    """Whether two references name the same tag (or digest) of the same repository."""
    return canonical(a) == canonical(b)
