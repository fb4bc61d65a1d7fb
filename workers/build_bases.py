"""Record the base images a build used, with their digests (after the build, before the push).

Bases are the Dockerfile's FROM images after build arguments (core/dockerfile.py; a FROM that
needs a secret build argument is left out, so no secret reaches the record, and so is one that
is no image reference). Each digest is
the one BuildKit printed, else the engine's (workers/base_digests.py). A base change later
rebuilds the rule when its digest moves (core/rebuilds.py). Recording never fails a build.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from core.credentials import registry_name
from core.dockerfile import base_images
from core.image_refs import canonical, parse_image
from records.builds import BuildRecord, BuildStore
from workers.build_spec import BuiltImage, Log
from workers.credentials import BuildSecrets
from workers.ports import ImageStore

logger = logging.getLogger(__name__)


class BuildWork(Protocol):
    """What of a running build (workers/pipeline.py Work) recording its bases needs."""

    @property
    def build(self) -> BuildRecord: ...

    @property
    def store(self) -> BuildStore: ...

    @property
    def log(self) -> Log: ...

    @property
    def secrets(self) -> BuildSecrets: ...


def record_bases(work: BuildWork, dockerfile: Path, images: ImageStore,
                 built: BuiltImage) -> None:
    """Store the build's bases and their digests, and say them in the log."""
    try:
        bases = used_bases(work, dockerfile, images, built)
        work.store.record_bases(work.build.id, bases)
    except Exception as exc:  # noqa: BLE001 - a missing record must not fail the build
        logger.exception("could not record the base images of build %s", work.build.id)
        work.log(f"Could not record the base images: {type(exc).__name__}\n")
        return
    for reference, digest in bases:
        work.log(f"Base image {reference}: {digest or 'only on this engine (no registry digest)'}"
                 "\n")


def used_bases(work: BuildWork, dockerfile: Path, images: ImageStore,
               built: BuiltImage) -> list[tuple[str, str | None]]:
    """(FROM reference, digest used) of each base image of the build."""
    text = dockerfile.read_text(encoding="utf-8", errors="replace")
    plan = work.build.plan
    hidden = {name: f"${{{name}}}" for name, _ in plan.secret_build_args}  # left unresolved
    resolved = dict(built.resolved_bases)
    found: list[tuple[str, str | None]] = []
    for reference in base_images(text, dict(plan.build_args) | hidden):
        if parse_image(reference) is None:
            continue  # e.g. an ARG without a value: no image the build could have used
        digest = resolved.get(canonical(reference))
        if digest is None:
            digest = images.base_digest(reference, auth_config=_login(work.secrets, reference))
        found.append((reference, digest))
    return found


def _login(secrets: BuildSecrets, reference: str) -> dict[str, str] | None:
    """The repository's pull_auth for the base's registry, as docker-py takes it."""
    parsed = parse_image(reference)
    login = secrets.pull_auths.get(registry_name(parsed.host)) if parsed else None
    return {"username": login[0], "password": login[1]} if login else None
