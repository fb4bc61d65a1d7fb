"""The engine's classic builder through docker-py: the ImageBuilder for `builder: classic` (I/O).

Kept for Dockerfiles that build differently under BuildKit. It cannot mount build secrets or
build other platforms (the rules loader refuses both), and a Dockerfile that needs BuildKit fails
with the engine's message and a hint. docker-py cannot abort a build from another thread, so
stop() says so: its caller ends the work-horse, and the engine stops a classic build whose
client connection drops (RUN step and container included).
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker
import docker.auth
import docker.errors

from core.build_limits import BuildLimits, cpus_words
from core.errors import ImageBuildError
from workers.build_spec import BuildSpec, BuiltImage, Log
from workers.engine_errors import CONNECTION_ERRORS, describe_connection_error
from workers.images import error_message, status_line

_STEP = re.compile(r"^Step \d+/\d+ : .*")
_BUILT = re.compile(r"Successfully built ([0-9a-f]{12,64})")
_NEEDS_BUILDKIT = re.compile(r"requires BuildKit|unknown flag: (mount|link|chmod|secret|ssh)|"
                             r"heredoc", re.IGNORECASE)
NEEDS_BUILDKIT_HINT = "this Dockerfile needs BuildKit: set builder: buildkit"


def network_mode(network: str) -> str | None:
    """docker-py's network_mode for a build network (None: the engine's default)."""
    return None if network == "default" else network


class ClassicBuilder:
    """Builds BuildSpecs with the engine's classic builder, through one docker-py client."""

    def __init__(self, client: docker.APIClient, *, engine: str = "DOCKER_HOST") -> None:
        self.api = client
        self.engine = engine

    def build(self, spec: BuildSpec, *, log: Log) -> BuiltImage:
        """Build `spec` and tag the image `spec.tag`."""
        if spec.secrets or spec.platforms:
            raise ImageBuildError("the classic builder cannot mount build secrets or build "
                                  "other platforms: set builder: buildkit")
        try:
            with only_these_logins(self.api, spec.docker_config):
                stream = self.api.build(
                    path=str(spec.context_dir), dockerfile=spec.dockerfile, tag=spec.tag,
                    buildargs=dict(spec.build_args), target=spec.target, labels=dict(spec.labels),
                    pull=spec.pull, nocache=spec.no_cache, cache_from=list(spec.cache_from) or None,
                    network_mode=network_mode(spec.network), rm=True, forcerm=True, decode=True,
                    container_limits=self.container_limits(spec.limits, log),
                )
                return BuiltImage(image_id=read_build_stream(stream, log))
        except docker.errors.APIError as exc:
            message = f"the Docker engine refused the build: {exc.explanation or exc}"
            raise ImageBuildError(message) from None
        except CONNECTION_ERRORS as exc:
            raise ImageBuildError(describe_connection_error(
                exc, engine=self.engine, timeout=int(getattr(self.api, "timeout", 0) or 0))
            ) from None

    def stop(self) -> bool:
        """A classic build cannot be stopped from here: the caller ends the process."""
        return False

    def container_limits(self, limits: BuildLimits, log: Log) -> dict[str, int | str]:
        """docker-py's limits for every RUN container: memory without swap, and CPUs as whole
        cores (docker-py's build has no CPU quota; cpus: 1.5 uses cores 0-1)."""
        found: dict[str, int | str] = {}
        if limits.memory is not None:
            found.update(memory=limits.memory, memswap=limits.memory)
        if limits.millicpus is not None:
            cores = math.ceil(limits.millicpus / 1000)
            if cores < int(self.api.info().get("NCPU") or 0):
                found["cpusetcpus"] = f"0-{cores - 1}" if cores > 1 else "0"
                if cores * 1000 != limits.millicpus:
                    log(f"The classic builder limits CPUs to whole cores: {cores} for "
                        f"{cpus_words(limits.millicpus)}\n")
        return found


@contextmanager
def only_these_logins(api: docker.APIClient, docker_config: str | None) -> Iterator[None]:
    """While building, send the engine only the logins in `docker_config` (this build's own):
    docker-py would send every login of the worker's Docker config, which a Dockerfile's FROM
    could then use for any registry."""
    header = registry_config_header(docker_config)

    def set_auth_headers(headers: dict[str, str | bytes]) -> None:
        if header is not None:
            headers["X-Registry-Config"] = header

    api._set_auth_headers = set_auth_headers
    try:
        yield
    finally:
        del api._set_auth_headers


def registry_config_header(docker_config: str | None) -> bytes | None:
    """The X-Registry-Config header for the logins of a private config.json (None: none)."""
    if docker_config is None:
        return None
    auths = json.loads((Path(docker_config) / "config.json").read_text()).get("auths", {})
    logins = {}
    for registry, entry in auths.items():
        username, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        logins[registry] = {"username": username, "password": password,
                            "serveraddress": registry}
    return bytes(docker.auth.encode_header(logins)) if logins else None


def read_build_stream(stream: Iterable[dict[str, Any]], log: Log) -> str:
    """Log a classic build's JSON stream; the image id, or ImageBuildError naming the step."""
    image_id: str | None = None
    step = ""
    for chunk in stream:
        text = chunk.get("stream")
        if isinstance(text, str):
            log(text)
            for line in text.splitlines():
                if _STEP.match(line):
                    step = line
                built = _BUILT.search(line)
                if built:
                    image_id = built.group(1)
        if "status" in chunk:
            log(status_line(chunk))
        if "error" in chunk or "errorDetail" in chunk:
            message = error_message(chunk)
            log(f"ERROR: {message}\n")
            if _NEEDS_BUILDKIT.search(message):
                message = f"{message} ({NEEDS_BUILDKIT_HINT})"
            raise ImageBuildError(f"{step}: {message}" if step else message)
        aux = chunk.get("aux")
        if isinstance(aux, dict) and isinstance(aux.get("ID"), str):
            image_id = aux["ID"]
    if not image_id:
        raise ImageBuildError("the build ended without producing an image")
    return image_id
