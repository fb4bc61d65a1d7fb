"""The engine and registry operations a build needs: the ImageStore of workers/ports.py (I/O).

docker-py for what it does well (inspect, pull, tag, push, remove), reading every stream chunk
for errors; Debian's docker CLI for manifest lists (workers/manifests.py), which docker-py
cannot push.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import docker
import docker.errors

from core.errors import ImageBuildError, PushError
from workers.base_digests import local_or_registry_digest
from workers.base_images import pull_base_images
from workers.build_spec import Log
from workers.engine_errors import CONNECTION_ERRORS, describe_connection_error
from workers.manifests import push_platform_list, split_reference

_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")


class DockerImages:
    """Tags, pushes and removes this worker's images, through one docker-py client."""

    def __init__(self, client: docker.APIClient, *, log: Log, docker_host: str | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        self.api = client
        self.log = log
        self.docker_host = docker_host
        self.environ = environ

    def ensure_local(self, reference: str, *, auth_config: Mapping[str, str] | None = None
                     ) -> bool:
        """Make the previous image of a rule available as layer cache; False when there is none."""
        try:
            self.api.inspect_image(reference)
            return True
        except docker.errors.ImageNotFound:
            pass
        repository, tag = split_reference(reference)
        try:
            for chunk in self.api.pull(repository, tag=tag, stream=True, decode=True,
                                       auth_config=dict(auth_config) if auth_config else None):
                if "error" in chunk or "errorDetail" in chunk:
                    raise docker.errors.APIError(error_message(chunk))
        except (docker.errors.APIError, *CONNECTION_ERRORS) as exc:
            self.log(f"No previous image {reference} to use as layer cache "
                     f"({self.failure(exc)})\n")
            return False
        self.log(f"Pulled the previous image {reference} to use as layer cache\n")
        return True

    def pull_bases(self, dockerfile: Path, *, pull: bool, build_args: Mapping[str, str],
                   pull_auths: Mapping[str, tuple[str, str]]) -> bool:
        """Pull the Dockerfile's private bases with the repository's pull_auth."""
        return pull_base_images(self.api, dockerfile=dockerfile, pull=pull,
                                build_args=build_args, pull_auths=pull_auths, log=self.log,
                                failure=self.failure)

    def fetch_by_digest(self, repository: str, digest: str, *,
                        auth_config: Mapping[str, str] | None = None) -> str:
        """The local id of `repository@digest`, pulled from the registry unless the engine has
        it; PushError when it cannot be had (the image to push again is gone)."""
        reference = f"{repository}@{digest}"
        try:
            return str(self.api.inspect_image(reference)["Id"])
        except docker.errors.ImageNotFound:
            pass
        try:
            for chunk in self.api.pull(repository, tag=digest, stream=True, decode=True,
                                       auth_config=dict(auth_config) if auth_config else None):
                if "error" in chunk or "errorDetail" in chunk:
                    raise docker.errors.APIError(error_message(chunk))
            return str(self.api.inspect_image(reference)["Id"])
        except (docker.errors.APIError, *CONNECTION_ERRORS) as exc:
            raise PushError(f"could not fetch {reference} to push it again: "
                            f"{self.failure(exc)}") from None

    def base_digest(self, reference: str, *, auth_config: Mapping[str, str] | None = None
                    ) -> str | None:
        """The digest of the base image a build used (workers/base_digests.py)."""
        return local_or_registry_digest(self.api, reference, auth_config)

    def image_id(self, reference: str) -> str:
        """The id of a local image a build hook made; ImageBuildError when it is missing."""
        try:
            return str(self.api.inspect_image(reference)["Id"])
        except docker.errors.ImageNotFound:
            raise ImageBuildError(f"the build hook did not produce {reference}") from None

    def pushed_digest(self, reference: str) -> str:
        """The registry digest of a reference a push hook pushed."""
        digest = self._repo_digest(reference)
        if digest is None:
            raise PushError(f"the push hook did not push {reference}")
        return digest

    def remove(self, references: tuple[str, ...]) -> None:
        """Untag pushed references from this engine (the registry keeps them; later builds pull
        their layer cache back from it)."""
        for reference in references:
            try:
                self.api.remove_image(reference)
            except docker.errors.APIError as exc:
                self.log(f"Could not remove {reference} from this worker: {exc}\n")
        self.log("Removed the pushed image from this worker's engine (AUTOBUILD_PRUNE_IMAGES)\n")

    def tag(self, image_id: str, reference: str) -> None:
        """Point `reference` at the image."""
        repository, tag = split_reference(reference)
        self.api.tag(image_id, repository, tag=tag, force=True)

    def push(self, reference: str, *, auth_config: Mapping[str, str] | None = None) -> str:
        """Push one reference and return the registry's manifest digest."""
        repository, tag = split_reference(reference)
        digest: str | None = None
        try:
            stream = self.api.push(
                repository,
                tag=tag,
                stream=True,
                decode=True,
                auth_config=dict(auth_config) if auth_config else None,
            )
            for chunk in stream:
                if "error" in chunk or "errorDetail" in chunk:
                    raise PushError(f"pushing {reference} failed: {error_message(chunk)}")
                if "status" in chunk:
                    status = status_line(chunk)
                    if chunk.get("progressDetail") in (None, {}):
                        self.log(status)
                    found = _DIGEST.search(str(chunk.get("status", "")))
                    if found:
                        digest = found.group(1)
                aux = chunk.get("aux")
                if isinstance(aux, dict) and isinstance(aux.get("Digest"), str):
                    digest = aux["Digest"]
        except (docker.errors.APIError, *CONNECTION_ERRORS) as exc:
            raise PushError(f"pushing {reference} failed: {self.failure(exc)}") from None
        if digest is None:
            digest = self._repo_digest(reference)
        if digest is None:
            raise PushError(f"pushing {reference} reported no digest")
        return digest

    def push_list(self, platform_images: tuple[tuple[str, str], ...], tags: tuple[str, ...], *,
                  docker_config: str | None) -> tuple[str, tuple[tuple[str, str], ...]]:
        """Push each platform's image and one manifest list per tag; (list digest, ((platform,
        manifest digest), …))."""
        return push_platform_list(platform_images, tags, docker_config=docker_config,
                                  log=self.log, docker_host=self.docker_host,
                                  environ=self.environ)

    def failure(self, exc: BaseException) -> str:
        """What an APIError or a broken connection to the engine says, for people."""
        if isinstance(exc, docker.errors.APIError):
            return str(exc.explanation or exc)
        return describe_connection_error(exc, engine=self.docker_host or "DOCKER_HOST",
                                         timeout=int(getattr(self.api, "timeout", 0) or 0))

    def _repo_digest(self, reference: str) -> str | None:
        repository, _ = split_reference(reference)
        info = self.api.inspect_image(reference)
        for entry in info.get("RepoDigests") or []:
            name, _, digest = str(entry).partition("@")
            if name == repository:
                return digest
        return None


def status_line(chunk: dict[str, Any]) -> str:
    """One log line for a progress chunk of the engine's JSON stream."""
    parts = [str(chunk[k]) for k in ("id", "status", "progress") if chunk.get(k)]
    return ": ".join(parts[:2]) + (" " + parts[2] if len(parts) > 2 else "") + "\n"


def error_message(chunk: dict[str, Any]) -> str:
    """The message of an error chunk of the engine's JSON stream."""
    detail = chunk.get("errorDetail")
    if isinstance(detail, dict) and detail.get("message"):
        return str(detail["message"]).strip()
    return str(chunk.get("error", "unknown error")).strip()
