"""Which digest of each base image a build used (Docker I/O behind ImageStore.base_digest).

BuildKit prints the digest it resolved for a base it fetched from a registry
(`#4 [1/2] FROM 127.0.0.1:5000/base:latest@sha256:…`): `ResolvedBases` reads those lines off
the log as it passes. A base the engine already had (BuildKit prefers it; the classic builder
uses it, or pulls it first) is the local image: its RepoDigests entry for that repository is
the digest it was pulled or pushed as. A base neither names is looked up in the registry
through the engine (a manifest lookup, with the repository's pull_auth).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import docker.errors

from core.image_refs import canonical, parse_image
from workers.build_spec import Log

_RESOLVED = re.compile(r"^#\d+ \[[^\]]*\] FROM (\S+)@(sha256:[0-9a-f]{64})\s*$")


class ResolvedBases:
    """A log that passes every line on, noting the base digests BuildKit resolved."""

    def __init__(self, log: Log) -> None:
        self.log = log
        self._found: dict[str, str] = {}
        self._pending = ""

    def __call__(self, text: str) -> None:
        self.log(text)
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()[-2048:]
        for line in lines:
            if " FROM " in line and (found := _RESOLVED.match(line)):
                self._found.setdefault(canonical(found.group(1)), found.group(2))

    def found(self) -> tuple[tuple[str, str], ...]:
        """(canonical reference, digest) of each base BuildKit resolved, in log order."""
        return tuple(self._found.items())


def local_or_registry_digest(api: Any, reference: str,
                             auth_config: Mapping[str, str] | None) -> str | None:
    """The digest of the engine's image `reference` (RepoDigests), else the registry's; None
    for an image only this engine has (imported or built here, never pushed)."""
    parsed = parse_image(reference)
    if parsed is None or parsed.pinned:
        return parsed.digest if parsed else None
    try:
        info = api.inspect_image(reference)
    except docker.errors.ImageNotFound:
        return registry_digest(api, reference, auth_config)
    except docker.errors.APIError:
        return None
    digests = []
    for entry in info.get("RepoDigests") or []:
        name, _, digest = str(entry).partition("@")
        named = parse_image(name)
        if named is not None and named.repository == parsed.repository:
            digests.append(digest)
    if len(digests) > 1:  # pushed or pulled as several manifests: ask which the tag is now
        current = registry_digest(api, reference, auth_config)
        return current if current in digests else digests[0]
    return digests[0] if digests else None


def registry_digest(api: Any, reference: str,
                    auth_config: Mapping[str, str] | None) -> str | None:
    """The manifest digest the registry has for `reference`, or None when it cannot say."""
    try:
        answer = api.inspect_distribution(reference,
                                          auth_config=dict(auth_config) if auth_config else None)
    except docker.errors.APIError:
        return None
    digest = (answer.get("Descriptor") or {}).get("digest")
    return str(digest) if digest else None
