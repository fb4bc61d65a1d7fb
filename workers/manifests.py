"""Pushing a multi-platform build as one manifest list per tag (docker push + docker manifest; I/O).

How: each platform's local image, named staging_reference(tag, platform), is pushed to a staging
repository beside the target, `<repo>-autobuild-platforms`; then for every tag
`docker manifest create <tag> <staging repo>@<digest> …` and `docker manifest push`, which puts
each platform manifest into the target repository BY DIGEST (cross-repository blob mount). So the
user's repository gets only its own tags. What stays behind: in the staging repository, one tag
per (tag, platform) built, `<tag>-<os>-<arch>[-<variant>]`, overwritten by the next build of that
tag; it cannot collide with user tags, being in another repository. The list refers to digests
read from this push's output, so concurrent builds cannot mix their platforms up.

--insecure (plain HTTP) is used only for registries on 127.0.0.0/8, ::1 or localhost, as the
engine treats them. `docker manifest` keeps state under DOCKER_CONFIG: it runs with a private copy
of the credentials' config.json, removed afterwards. Pushes cannot be stopped through
BuildKitBuilder.stop(); a killed work-horse takes them along (workers/docker_cli.py).
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from core.errors import PushError
from workers.build_spec import Log
from workers.docker_cli import DOCKER_CLI, cli_environment, default_config_dir, run

STAGING_SUFFIX = "-autobuild-platforms"
_PUSHED = re.compile(r"digest: (sha256:[0-9a-f]{64})")
_LIST_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_MAX_TAG = 128


def split_reference(reference: str) -> tuple[str, str]:
    """('registry/repo', 'tag') of a full image reference (tag 'latest' when it has none)."""
    repository, _, tag = reference.rpartition(":")
    if "/" in tag or not repository:
        return reference, "latest"
    return repository, tag


def registry_host(repository: str) -> str:
    """The registry a repository lives on, as the CLI reads it (docker.io when none is named)."""
    first, sep, _ = repository.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def is_insecure_registry(host: str) -> bool:
    """Whether the engine talks plain HTTP to it: loopback addresses and localhost."""
    if host.startswith("[") and "]" in host:
        name = host[1:host.index("]")]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def staging_reference(tag: str, platform: str) -> str:
    """The local reference and staging tag of one platform's image of `tag`."""
    repository, name = split_reference(tag)
    slug = "-" + platform.replace("/", "-")
    return f"{repository}{STAGING_SUFFIX}:{name[:_MAX_TAG - len(slug)]}{slug}"


@contextmanager
def _manifest_config(docker_config: str | None, environ: Mapping[str, str]) -> Iterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="autobuild-manifest-"))
    try:
        source = Path(docker_config) if docker_config else default_config_dir(environ)
        if (source / "config.json").is_file():
            shutil.copyfile(source / "config.json", folder / "config.json")
            (folder / "config.json").chmod(0o600)
        yield str(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _last_line(lines: list[str]) -> str:
    return next((line.strip() for line in reversed(lines) if line.strip()), "no output")


def push_platform_list(platform_images: tuple[tuple[str, str], ...], tags: tuple[str, ...], *,
                       docker_config: str | None, log: Log, docker: str = DOCKER_CLI,
                       docker_host: str | None = None, environ: Mapping[str, str] | None = None
                       ) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Push the platform images and one manifest list per tag; (list digest, ((platform,
    manifest digest), …)). Raises PushError naming what failed."""
    environ = os.environ if environ is None else environ
    if not platform_images or not tags:
        raise PushError("a manifest list needs at least one platform image and one tag")
    references = [reference for _, reference in platform_images]
    hosts = {registry_host(split_reference(r)[0]) for r in (*references, *tags)}
    if len(hosts) != 1:
        raise PushError(f"the platform images and tags are on several registries "
                        f"({', '.join(sorted(hosts))}); a manifest list needs one")
    env = cli_environment(environ, docker_host=docker_host, docker_config=docker_config)
    digests: list[tuple[str, str]] = []
    for platform, reference in platform_images:
        log(f"Pushing the {platform} image {reference}\n")
        code, lines = run([docker, "push", reference], env=env, log=log)
        found = [m.group(1) for m in map(_PUSHED.search, lines) if m]
        if code != 0 or not found:
            raise PushError(f"pushing the {platform} image {reference} failed: "
                            f"{_last_line(lines)}")
        digests.append((platform, found[-1]))
    insecure = ["--insecure"] if is_insecure_registry(hosts.pop()) else []
    sources = [f"{split_reference(reference)[0]}@{digest}"
               for reference, (_, digest) in zip(references, digests, strict=True)]
    list_digest = ""
    with _manifest_config(docker_config, environ) as private:
        manifest_env = dict(env, DOCKER_CONFIG=private)
        for tag in tags:
            code, lines = run([docker, "manifest", "create", *insecure, tag, *sources],
                              env=manifest_env, log=log)
            if code != 0:
                raise PushError(f"creating the manifest list {tag} failed: {_last_line(lines)}")
            code, lines = run([docker, "manifest", "push", *insecure, "--purge", tag],
                              env=manifest_env, log=log)
            pushed = [line.strip() for line in lines if _LIST_DIGEST.fullmatch(line.strip())]
            if code != 0 or not pushed:
                raise PushError(f"pushing the manifest list {tag} failed: {_last_line(lines)}")
            log(f"Pushed {tag}@{pushed[-1]} ({', '.join(p for p, _ in platform_images)})\n")
            list_digest = list_digest or pushed[-1]
    return list_digest, tuple(digests)
