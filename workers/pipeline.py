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
from workers.base_images import pull_base_images
from workers.buildlog import BuildLog
from workers.checkout import MirrorCheckout
from workers.credentials import BuildSecrets, CredentialError, resolve_credentials
from workers.hooks import Hooks, NoHooks, hook_environment
from workers.images import DockerImages, split_reference
from workers.labels import oci_labels
from workers.ordering import take_newest
from workers.retag import image_to_reuse, note_takeovers, pull_reused_image
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
    """Run one build to its end, recording each transition; returns its final status.

    When its turn comes, the job builds the newest queued commit of the rule and ref
    (workers/ordering.py): this build, or a newer one it supersedes this one with.
    """
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
    turn: BuildRecord | None = build
    while turn is not None:
        turn = _run_turn(turn, store=store, settings=settings, docker_api=docker_api,
                         environ=environ, stop=stop or kill_this_process, workspace=workspace)
    final = store.get_build(build_id)
    return final.status if final else BuildStatus.FAILED


def _run_turn(build: BuildRecord, *, store: BuildStore, settings: Settings, docker_api: Any,
              environ: Mapping[str, str], stop: Callable[[], None], workspace: Path
              ) -> BuildRecord | None:
    """Build `build` (which holds its rule and ref's turn) unless a newer queued build of them
    should run instead: then return that one, which this job has claimed."""
    try:
        secrets = resolve_credentials(build.plan, environ)
    except CredentialError as exc:
        BuildLog(store, build.id)(f"\nBuild failed while {exc.phase}: {exc.user_message}\n")
        store.set_status(build.id, BuildStatus.FAILED, error=exc.user_message)
        return None
    log = BuildLog(store, build.id, secrets=secrets.masked)
    watchdog = Watchdog(store, build.id, timeout=build.plan.timeout, log=log, stop=stop)
    watchdog.start()
    workdir = Path(tempfile.mkdtemp(prefix=f"{build.id}-", dir=workspace))
    status, error, digest = BuildStatus.FAILED, None, None
    try:
        log(f"Build {build.id}: {build.plan.repository} {build.plan.ref} at {build.commit}\n")
        checkout = MirrorCheckout(Path(settings.mirror_dir), timeout=settings.git_timeout,
                                  log=log, auth=secrets.git_env)
        checkout.update(build.plan.clone_url, build.commit)
        chosen = take_newest(store, build, checkout, log)
        if chosen is not build:
            return chosen
        status, error, digest = _phases(build, store=store, settings=settings,
                                        docker_api=docker_api, log=log, workdir=workdir,
                                        secrets=secrets, checkout=checkout)
    except BuildError as exc:
        log(f"\nBuild failed while {exc.phase}: {exc.user_message}\n")
        status, error, digest = BuildStatus.FAILED, exc.user_message, None
    except Exception as exc:
        logger.exception("build %s crashed", build.id)
        error = f"internal error: {type(exc).__name__}: {log.mask(str(exc))}"
        log(f"\n{error}\n")
        status, digest = BuildStatus.FAILED, None
    finally:
        watchdog.close()
        shutil.rmtree(workdir, ignore_errors=True)
    store.set_status(build.id, status, error=error, digest=digest)
    return None


def _phases(build: BuildRecord, *, store: BuildStore, settings: Settings, docker_api: Any,
            log: BuildLog, workdir: Path, secrets: BuildSecrets, checkout: MirrorCheckout
            ) -> tuple[BuildStatus, str | None, str | None]:
    plan = build.plan
    if plan.path_filter is not None and plan.before:
        files = checkout.changed_files(plan.clone_url, plan.before, plan.commit)
        if files is not None:
            passes, reason = files_pass_filter(files, included=plan.path_filter.included_files,
                                               ignored=plan.path_filter.ignored_files)
            if not passes:
                log(f"Skipped: {reason}\n")
                return BuildStatus.SKIPPED, reason, None
    images = DockerImages(docker_api, log=log)
    reused = image_to_reuse(store, build)
    if reused is not None:
        pull_reused_image(store, build, reused, images, auth_config=secrets.auth_config, log=log)
        return _push_tags(build, images, store=store, settings=settings, log=log,
                          secrets=secrets, hooks=NoHooks())
    source = checkout.checkout(plan.clone_url, plan.commit, workdir / "src",
                               submodules=plan.submodules, lfs=plan.lfs)
    revision = checkout.head_commit(source)
    context_dir, dockerfile = resolve_build_paths(source, plan.context, plan.dockerfile)
    hooks = _hooks(plan, revision, source, context_dir / dockerfile, dockerfile, log)
    hooks.add_env(secrets.hook_env)
    hooks.run("post_checkout")
    store.set_status(build.id, BuildStatus.BUILDING)
    pull = pull_base_images(docker_api, dockerfile=context_dir / dockerfile, pull=plan.pull,
                            build_args=dict(plan.build_args) | secrets.build_args,
                            pull_auths=secrets.pull_auths, log=log)
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
            labels=oci_labels(plan, revision=revision), pull=pull, nocache=not plan.cache,
            cache_from=cache_from,
        )
    hooks.run("post_build")
    hooks.run_tests()
    for reference in plan.tags:
        images.tag(image_id, reference)
    store.set_status(build.id, BuildStatus.PUSHING)
    return _push_tags(build, images, store=store, settings=settings, log=log, secrets=secrets,
                      hooks=hooks)


def _push_tags(build: BuildRecord, images: DockerImages, *, store: BuildStore,
               settings: Settings, log: BuildLog, secrets: BuildSecrets,
               hooks: Hooks | NoHooks) -> tuple[BuildStatus, str | None, str | None]:
    """Push every tag of the build (saying whose tags it takes over); the build succeeded."""
    plan = build.plan
    note_takeovers(store, build, log)
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
