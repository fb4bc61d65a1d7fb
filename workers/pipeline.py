"""The phases of one build: wait for its turn, check out, build, push — each step recorded."""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from core.config import Settings
from core.errors import BuildError, ImageBuildError, PushError
from core.events import short_ref
from core.paths import files_pass_filter
from core.plan import BuildPlan
from core.status import BuildStatus
from records.builds import BuildRecord, BuildStore
from records.coordination import StartResult, start_build
from workers.buildlog import BuildLog
from workers.checkout import MirrorCheckout
from workers.credentials import BuildSecrets, CredentialError, resolve_credentials
from workers.hooks import Hooks, NoHooks, hook_environment
from workers.images import DockerImages, split_reference
from workers.labels import oci_labels
from workers.watchdog import Watchdog, kill_this_process

logger = logging.getLogger(__name__)
PUSH_RETRY_DELAYS = (1.0, 3.0, 9.0)
_TRANSIENT = re.compile(r"\b5\d\d\b|connection refused|connection reset|timed? ?out|EOF|"
                        r"unavailable|no such host|i/o timeout", re.IGNORECASE)
WAIT_POLL = 1.0


def resolve_build_paths(checkout: Path, context: str, dockerfile: str) -> tuple[Path, str]:
    """(context folder, Dockerfile path relative to it), refusing anything outside the checkout."""
    root = checkout.resolve()
    for what, given in (("context", context), ("dockerfile", dockerfile)):
        path = (root / given).resolve()
        if path != root and root not in path.parents:
            raise ImageBuildError(f"{what} {given!r} resolves outside the repository checkout "
                                  "(through '..' or a symbolic link); refusing to build")
    context_dir, dockerfile_path = (root / context).resolve(), (root / dockerfile).resolve()
    if not context_dir.is_dir():
        raise ImageBuildError(f"context {context!r} is not a folder in the repository")
    if not dockerfile_path.is_file():
        raise ImageBuildError(f"Dockerfile not found at {dockerfile!r}")
    return context_dir, os.path.relpath(dockerfile_path, context_dir)


def wait_for_turn(store: BuildStore, build: BuildRecord, *, poll: float = WAIT_POLL) -> bool:
    """Start the build once no other build of its rule and ref runs; False if it went away."""
    announced = False
    while True:
        result = start_build(store, build.id)
        if result is StartResult.STARTED:
            return True
        if result is StartResult.GONE:
            return False
        if not announced:
            store.append_log(build.id, "Waiting for the running build of the same rule and ref "
                             "to finish (pushes of one tag are built in order)\n")
            announced = True
        time.sleep(poll)


def sweep_workspaces(store: BuildStore, workspace: Path) -> None:
    """Remove checkouts left behind by builds that ended without cleaning up (killed)."""
    for entry in workspace.iterdir() if workspace.is_dir() else []:
        build = store.get_build(entry.name.split("-", 1)[0])
        if build is None or build.status.is_terminal():
            shutil.rmtree(entry, ignore_errors=True)


def execute_build(build_id: str, *, store: BuildStore, settings: Settings, docker_api: Any,
                  environ: Mapping[str, str], stop: Callable[[], None] | None = None
                  ) -> BuildStatus:
    """Run one build to its end, recording each transition; returns the final status."""
    build = store.get_build(build_id)
    if build is None:
        logger.warning("build %s is not in the database; nothing to do", build_id)
        return BuildStatus.FAILED
    workspace = Path(settings.workspace_dir)
    workspace.mkdir(parents=True, exist_ok=True)
    sweep_workspaces(store, workspace)
    if not wait_for_turn(store, build):
        current = store.get_build(build_id)
        logger.info("build %s is %s; not starting it", build_id, current and current.status)
        return current.status if current else BuildStatus.FAILED
    try:
        secrets = resolve_credentials(build.plan, environ)
    except CredentialError as exc:
        BuildLog(store, build_id)(f"\nBuild failed while {exc.phase}: {exc.user_message}\n")
        store.set_status(build_id, BuildStatus.FAILED, error=exc.user_message)
        return BuildStatus.FAILED
    log = BuildLog(store, build_id, secrets=secrets.masked)
    watchdog = Watchdog(store, build_id, timeout=build.plan.timeout, log=log,
                        stop=stop or kill_this_process)
    watchdog.start()
    workdir = Path(tempfile.mkdtemp(prefix=f"{build_id}-", dir=workspace))
    try:
        status, error, digest = _phases(build, store=store, settings=settings,
                                        docker_api=docker_api, log=log, workdir=workdir,
                                        secrets=secrets)
    except BuildError as exc:
        log(f"\nBuild failed while {exc.phase}: {exc.user_message}\n")
        status, error, digest = BuildStatus.FAILED, exc.user_message, None
    except Exception as exc:
        logger.exception("build %s crashed", build_id)
        error = f"internal error: {type(exc).__name__}: {log.mask(str(exc))}"
        log(f"\n{error}\n")
        status, digest = BuildStatus.FAILED, None
    finally:
        watchdog.close()
        shutil.rmtree(workdir, ignore_errors=True)
    store.set_status(build_id, status, error=error, digest=digest)
    return status


def _phases(build: BuildRecord, *, store: BuildStore, settings: Settings, docker_api: Any,
            log: BuildLog, workdir: Path, secrets: BuildSecrets
            ) -> tuple[BuildStatus, str | None, str | None]:
    plan = build.plan
    log(f"Build {build.id}: {plan.repository} {plan.ref} at {plan.commit}\n")
    checkout = MirrorCheckout(Path(settings.mirror_dir), timeout=settings.git_timeout, log=log,
                              auth=secrets.git_env)
    source = checkout.checkout(plan.clone_url, plan.commit, workdir / "src",
                               submodules=plan.submodules)
    if plan.path_filter is not None and plan.before:
        files = checkout.changed_files(plan.clone_url, plan.before, plan.commit)
        if files is not None:
            passes, reason = files_pass_filter(files, included=plan.path_filter.included_files,
                                               ignored=plan.path_filter.ignored_files)
            if not passes:
                log(f"Skipped: {reason}\n")
                return BuildStatus.SKIPPED, reason, None
    revision = checkout.head_commit(source)
    context_dir, dockerfile = resolve_build_paths(source, plan.context, plan.dockerfile)
    hooks = _hooks(plan, revision, source, context_dir / dockerfile, dockerfile, log)
    hooks.run("post_checkout")
    store.set_status(build.id, BuildStatus.BUILDING)
    images = DockerImages(docker_api, log=log)
    hooks.run("pre_build")
    if hooks.run("build"):
        image_id = images.image_id(plan.tags[0])
    else:
        cache_from = None
        if plan.cache and images.ensure_local(plan.tags[0], auth_config=secrets.auth_config):
            cache_from = [plan.tags[0]]
        image_id = images.build(
            context_dir=context_dir, dockerfile=dockerfile, tag=plan.tags[0],
            buildargs=dict(plan.build_args) | secrets.build_args, target=plan.target,
            labels=oci_labels(plan, revision=revision), pull=plan.pull, nocache=not plan.cache,
            cache_from=cache_from,
        )
    hooks.run("post_build")
    for reference in plan.tags:
        images.tag(image_id, reference)
    store.set_status(build.id, BuildStatus.PUSHING)
    hooks.run("pre_push")
    digest = ""
    if hooks.run("push"):
        digest = images.pushed_digest(plan.tags[0])
    else:
        for reference in plan.tags:
            pushed = push_with_retry(images, reference, auth_config=secrets.auth_config, log=log)
            log(f"Pushed {reference}@{pushed}\n")
            digest = digest or pushed
    hooks.run("post_push")
    if settings.prune_images:
        images.remove(plan.tags)
    log(f"Build succeeded: {', '.join(plan.tags)} ({digest})\n")
    return BuildStatus.SUCCESS, None, digest


def _hooks(plan: BuildPlan, revision: str, source: Path, dockerfile_path: Path,
           dockerfile: str, log: Callable[[str], None]) -> Hooks | NoHooks:
    """The hooks/ folder beside the Dockerfile, when the repository allows hooks."""
    folder = dockerfile_path.resolve().parent / "hooks"
    if not folder.is_dir():
        return NoHooks()
    if not plan.hooks:
        log("Not running hooks/: the repository does not set hooks: true\n")
        return NoHooks()
    if source.resolve() not in folder.resolve().parents:
        raise ImageBuildError("hooks/ resolves outside the repository checkout; refusing")
    repository, tag = split_reference(plan.tags[0])
    env = hook_environment(source_ref=short_ref(plan.ref), commit=revision,
                           message=plan.commit_message, image=repository, tag=tag,
                           dockerfile=dockerfile)
    return Hooks(folder, env=env, log=log, timeout=plan.timeout)


def push_with_retry(images: DockerImages, reference: str, *, auth_config: dict[str, str] | None,
                    log: Callable[[str], None],
                    delays: tuple[float, ...] = PUSH_RETRY_DELAYS) -> str:
    """Push, retrying registry outages and 5xx answers with backoff; auth errors fail at once."""
    for attempt in range(len(delays) + 1):
        log(f"Pushing {reference}\n")
        try:
            return images.push(reference, auth_config=auth_config)
        except PushError as exc:
            if attempt == len(delays) or not _TRANSIENT.search(exc.user_message):
                raise
            log(f"Push failed ({exc.user_message}); retrying in {delays[attempt]:.0f} s\n")
            time.sleep(delays[attempt])
    raise AssertionError("unreachable")
