"""The worker engine's dangling images, for `autobuild gc` (Docker I/O through docker-py).

Dangling images are untagged ones no tag points to: the previous image of a tag that a build
moved, or a build's leftover. A classic build's newest step is one too while it runs, so only
images older than a minimum age are removed, and one a container still uses is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import docker


@dataclass(frozen=True)
class DanglingImage:
    """One untagged image of the engine."""

    id: str
    created: datetime
    size: int


class DanglingImages(Protocol):
    """An engine's dangling images; tests use a fake."""

    def dangling(self) -> list[DanglingImage]:
        """Every dangling image, oldest first."""
        ...

    def remove(self, image_id: str) -> str | None:
        """Remove one; None when it is gone, else why it was kept."""
        ...


def parse_created(text: str) -> datetime:
    """The engine's RFC 3339 time with nanoseconds (`2024-05-01T12:00:00.123456789Z`)."""
    return datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)


class EngineImages:
    """DanglingImages of the engine at DOCKER_HOST."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client

    def dangling(self) -> list[DanglingImage]:
        """Every dangling image, oldest first."""
        found = [DanglingImage(str(image.id), parse_created(image.attrs["Created"]),
                               int(image.attrs.get("Size") or 0))
                 for image in self.client.images.list(filters={"dangling": True})]
        return sorted(found, key=lambda image: (image.created, image.id))

    def remove(self, image_id: str) -> str | None:
        """Remove the image unless a container uses it (or it is already gone)."""
        try:
            self.client.images.remove(image_id, noprune=False)
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as exc:
            return str(exc.explanation or exc)
        return None
