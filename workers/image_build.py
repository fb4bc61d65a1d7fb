"""The build phase of a plan: its BuildSpec, its layer cache, and the builder's run (glue)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from core.build_limits import NO_LIMITS, BuildLimits, memory_words
from core.build_options import BUILDKIT, CLASSIC
from core.errors import ImageBuildError
from core.plan import BuildPlan
from workers.base_digests import ResolvedBases
from workers.build_spec import BuildSpec, BuiltImage, ImageBuilder, Log
from workers.credentials import BuildSecrets
from workers.docker_cli import auth_key, default_config_dir, registry_config
from workers.labels import oci_labels
from workers.manifests import registry_host, split_reference
from workers.ports import ImageStore
from workers.stopping import BuildStopper

_KILLED = re.compile(r"exit code: 137|returned a non-zero code: 137")
NETWORK_HINT = ("this engine has no default bridge network for RUN steps: set "
                "AUTOBUILD_BUILD_NETWORK=none (or host)")


def layer_cache(plan: BuildPlan, images: ImageStore, secrets: BuildSecrets) -> tuple[str, ...]:
    """The rule's previous image as layer cache, when the rule uses cache. BuildKit reads its
    inline cache from the registry itself; the classic builder needs the image on the engine."""
    if not plan.cache:
        return ()
    if plan.builder == CLASSIC:
        found = images.ensure_local(plan.tags[0], auth_config=secrets.auth_config)
        return (plan.tags[0],) if found else ()
    return (plan.tags[0],)


def build_spec(plan: BuildPlan, *, context_dir: Path, dockerfile: str, revision: str,
               secrets: BuildSecrets, network: str, cache_from: tuple[str, ...],
               docker_config: str | None, pull: bool | None = None,
               limits: BuildLimits = NO_LIMITS) -> BuildSpec:
    """What the builder builds for `plan`, with this build's resolved secrets; `pull` when the
    bases were already pulled with their credentials (else the rule's `pull`); `limits` are the
    worker's defaults for what the rule does not limit itself."""
    build_args = dict(plan.build_args) | secrets.build_args
    return BuildSpec(
        context_dir=context_dir, dockerfile=dockerfile, tag=plan.tags[0],
        build_args=tuple(build_args.items()), target=plan.target,
        labels=tuple(oci_labels(plan, revision=revision).items()),
        pull=plan.pull if pull is None else pull,
        no_cache=not plan.cache, cache_from=cache_from, secrets=secrets.build_secrets,
        platforms=plan.platforms, network=network, docker_config=docker_config,
        limits=plan.limits.over(limits))


@contextmanager
def builder_config(plan: BuildPlan, secrets: BuildSecrets,
                   environ: Mapping[str, str]) -> Iterator[str | None]:
    """A private DOCKER_CONFIG holding only this build's credentials: the image registry's
    (the rule's registry_auth, else the worker's own login to that registry) and the
    repository's pull_auth. BuildKit's CLI reads it; the classic builder sends the engine only
    its logins. No other repository's logins, nor the worker's others, reach a build."""
    host = registry_host(split_reference(plan.tags[0])[0])
    credentials = dict(secrets.pull_auths)
    if secrets.auth_config is not None:
        credentials[host] = (secrets.auth_config["username"], secrets.auth_config["password"])
    elif (own := worker_login(environ, host)) is not None:
        credentials[host] = own
    with registry_config(credentials) as folder:
        yield folder


def worker_login(environ: Mapping[str, str], host: str) -> tuple[str, str] | None:
    """The worker's own `docker login` to `host` (config.json `auths`), if it has one."""
    path = default_config_dir(environ) / "config.json"
    try:
        auths = json.loads(path.read_text(encoding="utf-8")).get("auths", {})
        encoded = auths.get(auth_key(host), {}).get("auth", "")
        user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
    except (OSError, ValueError, AttributeError):
        return None
    return (user, password) if user and password else None


def describe_builder(spec: BuildSpec, name: str) -> str:
    """'BuildKit for linux/amd64, linux/arm64 (RUN steps: network none)', for the log."""
    what = "BuildKit" if name == BUILDKIT else "the classic builder"
    platforms = f" for {', '.join(spec.platforms)}" if spec.platforms else ""
    limits = f", limits: {spec.limits.describe()}" if spec.limits else ""
    return f"{what}{platforms} (RUN steps: network {spec.network}{limits})"


def run_builder(builder: ImageBuilder, spec: BuildSpec, *, name: str, stopper: BuildStopper,
                log: Log) -> BuiltImage:
    """Build `spec`, stoppable through `stopper`; errors say what to change when they can."""
    log(f"Building {spec.tag} with {describe_builder(spec, name)}\n")
    if spec.cache_from and name == BUILDKIT:
        log(f"Layer cache: {', '.join(spec.cache_from)} from the registry (a rule's first build "
            "has none yet: BuildKit then reports it not found and goes on)\n")
    tap = ResolvedBases(log)
    try:
        with stopper.building(builder):
            built = builder.build(spec, log=tap)
        return replace(built, resolved_bases=tap.found())
    except ImageBuildError as exc:
        if "network bridge not found" in exc.user_message and spec.network == "default":
            raise ImageBuildError(f"{exc.user_message} ({NETWORK_HINT})") from None
        if spec.limits.memory is not None and _KILLED.search(exc.user_message):
            raise ImageBuildError(
                f"{exc.user_message} (killed: most likely it needed more than the build's "
                f"memory limit of {memory_words(spec.limits.memory)})") from None
        raise
