"""Pulling a build's private base images with the repository's `pull_auth` (Docker I/O).

The classic builder pulls FROM images with the worker's own Docker config only, so before it
runs, each base image on a registry the repository has credentials for is pulled here with
them (docker-py's `auth_config`), and the engine then builds from what it has. Credentials go
to their registry only, and only for the builds of the repository that configured them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import docker.errors

from core.credentials import registry_name
from core.dockerfile import base_images
from core.errors import ImageBuildError
from workers.engine_errors import CONNECTION_ERRORS
from workers.manifests import registry_host, split_reference

Log = Callable[[str], None]


def split_image(reference: str) -> tuple[str, str]:
    """(repository, tag or digest) of an image reference, `latest` when it has neither."""
    if "@" in reference:
        repository, _, digest = reference.partition("@")
        return repository, digest
    return split_reference(reference)


def pull_base_images(api: Any, *, dockerfile: Path, build_args: Mapping[str, str], pull: bool,
                     pull_auths: Mapping[str, tuple[str, str]], log: Log,
                     failure: Callable[[BaseException], str]) -> bool:
    """Pull the Dockerfile's base images that `pull_auths` has credentials for (and, when
    `pull` asks for fresh bases, the others too); returns the `pull` to give the engine."""
    if not pull_auths:
        return pull
    bases = base_images(dockerfile.read_text(encoding="utf-8", errors="replace"), build_args)
    hosts = {base: registry_name(registry_host(split_image(base)[0])) for base in bases}
    if not any(host in pull_auths for host in hosts.values()):
        return pull
    for base, host in hosts.items():
        login = pull_auths.get(host)
        if login is not None or pull:
            _pull(api, base, host, login, log, failure)
    return False  # every base the engine needs is there, pulled with the right credentials


def _pull(api: Any, base: str, host: str, login: tuple[str, str] | None, log: Log,
          failure: Callable[[BaseException], str]) -> None:
    """Pull one base image, with `login` (username, password) when given."""
    repository, tag = split_image(base)
    auth = {"username": login[0], "password": login[1]} if login else None
    whose = f"the pull_auth credentials for {host}" if login else "the worker's Docker config"
    log(f"Pulling base image {base} with {whose}\n")
    try:
        for chunk in api.pull(repository, tag=tag, stream=True, decode=True, auth_config=auth):
            if "error" in chunk or "errorDetail" in chunk:
                detail = chunk.get("errorDetail") or {}
                raise docker.errors.APIError(str(detail.get("message") or chunk.get("error")))
    except (docker.errors.APIError, *CONNECTION_ERRORS) as exc:
        raise ImageBuildError(f"could not pull base image {base} with {whose}: "
                              f"{failure(exc)}") from None
