"""The real adapters of one build: mirror checkout, BuildKit or classic builder, docker-py."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import docker
import docker.errors

from core.build_options import BUILDKIT, CLASSIC
from core.config import Settings
from workers.build_spec import ImageBuilder, Log
from workers.buildkit import BuildKitBuilder
from workers.cgroup_limits import CgroupLimits
from workers.checkout import MirrorCheckout
from workers.classic import ClassicBuilder
from workers.engine_errors import CONNECTION_ERRORS, describe_connection_error
from workers.images import DockerImages


class EngineTools:
    """WorkerTools on this worker's git mirrors and Docker engine."""

    def __init__(self, settings: Settings, client: docker.APIClient,
                 environ: Mapping[str, str]) -> None:
        self.settings = settings
        self.client = client
        self.environ = environ

    def checkout(self, *, log: Log, git_env: Mapping[str, str]) -> MirrorCheckout:
        """A checkout through this worker's mirrors."""
        return MirrorCheckout(Path(self.settings.mirror_dir), timeout=self.settings.git_timeout,
                              log=log, auth=dict(git_env))

    def builder(self, name: str) -> ImageBuilder:
        """BuildKit through Debian's docker CLI, or the classic builder through docker-py."""
        if name == BUILDKIT:
            limiter = CgroupLimits(cgroup=self.settings.buildkit_cgroup,
                                   docker_host=self.settings.docker_host)
            return BuildKitBuilder(docker_host=self.settings.docker_host, environ=self.environ,
                                   limiter=limiter)
        if name == CLASSIC:
            return ClassicBuilder(self.client, engine=self.settings.docker_host)
        raise ValueError(f"unknown builder {name!r}")

    def images(self, *, log: Log) -> DockerImages:
        """docker-py for images, the CLI for manifest lists, on this worker's engine."""
        return DockerImages(self.client, log=log, docker_host=self.settings.docker_host,
                            environ=self.environ)

    def engine_problem(self) -> str | None:
        """None when the engine answers a ping; else why not, naming the engine."""
        engine = self.settings.docker_host
        try:
            self.client.ping()
        except docker.errors.APIError as exc:
            return f"the Docker engine at {engine} answers with errors: {exc}"
        except CONNECTION_ERRORS as exc:
            return describe_connection_error(exc, engine=engine,
                                             timeout=self.settings.engine_timeout)
        return None
