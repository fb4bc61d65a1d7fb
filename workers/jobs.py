"""The RQ job that runs one build: checkout, docker build, push, with every step recorded."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import docker

from core.config import Settings, settings_from_env
from core.errors import BuildError, ImageBuildError
from core.paths import files_pass_filter
from core.status import BuildStatus
from records.builds import BuildRecord, BuildStore
from workers.buildlog import BuildLog
from workers.checkout import MirrorCheckout
from workers.images import DockerImages
from workers.labels import oci_labels

logger = logging.getLogger(__name__)
WORKER_LOST = "worker lost: the process running this build died before it finished"


def _settings() -> Settings:
    return settings_from_env(os.environ, base_dir=os.getcwd())


def run_build(build_id: str) -> str:
    """Entry point RQ calls (by dotted path) for one queued build; returns its final status."""
    settings = _settings()
    store = BuildStore.from_url(settings.database_url, log_cap=settings.log_cap_bytes)
    client = docker.APIClient(base_url=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"),
                              version="auto", timeout=300)
    try:
        return execute_build(build_id, store=store, settings=settings, docker_api=client).value
    finally:
        client.close()
        store.engine.dispose()


def resolve_build_paths(checkout: Path, context: str, dockerfile: str) -> tuple[Path, str]:
    """(context folder, Dockerfile path relative to it), refusing anything outside the checkout."""
    root = checkout.resolve()
    context_dir = (root / context).resolve()
    dockerfile_path = (root / dockerfile).resolve()
    for what, path in (("context", context_dir), ("dockerfile", dockerfile_path)):
        if path != root and root not in path.parents:
            raise ImageBuildError(f"{what} {context if what == 'context' else dockerfile!r} "
                                  "resolves outside the repository checkout; refusing to build")
    if not context_dir.is_dir():
        raise ImageBuildError(f"context {context!r} is not a folder in the repository")
    if not dockerfile_path.is_file():
        raise ImageBuildError(f"Dockerfile not found at {dockerfile!r}")
    return context_dir, os.path.relpath(dockerfile_path, context_dir)


def execute_build(
    build_id: str, *, store: BuildStore, settings: Settings, docker_api: Any
) -> BuildStatus:
    """Run the phases of one build, recording each transition; returns the final status."""
    build = store.get_build(build_id)
    if build is None:
        logger.warning("build %s is not in the database; nothing to do", build_id)
        return BuildStatus.FAILED
    if not store.set_status(build_id, BuildStatus.CLONING):
        logger.info("build %s is %s; not starting it", build_id, build.status.value)
        return build.status
    log = BuildLog(store, build_id)
    workspace = Path(settings.workspace_dir)
    workspace.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"{build_id}-", dir=workspace))
    try:
        return _phases(build, store=store, settings=settings, docker_api=docker_api,
                       log=log, workdir=workdir)
    except BuildError as exc:
        log(f"\nBuild failed while {exc.phase}: {exc.user_message}\n")
        store.set_status(build_id, BuildStatus.FAILED, error=exc.user_message)
        return BuildStatus.FAILED
    except Exception as exc:
        logger.exception("build %s crashed", build_id)
        message = f"internal error: {type(exc).__name__}: {log.mask(str(exc))}"
        log(f"\n{message}\n")
        store.set_status(build_id, BuildStatus.FAILED, error=message)
        return BuildStatus.FAILED
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _phases(build: BuildRecord, *, store: BuildStore, settings: Settings, docker_api: Any,
            log: BuildLog, workdir: Path) -> BuildStatus:
    plan = build.plan
    log(f"Build {build.id}: {plan.repository} {plan.ref} at {plan.commit}\n")
    checkout = MirrorCheckout(Path(settings.mirror_dir), timeout=settings.git_timeout, log=log)
    source = checkout.checkout(plan.clone_url, plan.commit, workdir / "src",
                               submodules=plan.submodules)
    if plan.path_filter is not None and plan.before:
        files = checkout.changed_files(plan.clone_url, plan.before, plan.commit)
        if files is not None:
            passes, reason = files_pass_filter(files, included=plan.path_filter.included_files,
                                               ignored=plan.path_filter.ignored_files)
            if not passes:
                log(f"Skipped: {reason}\n")
                store.set_status(build.id, BuildStatus.SKIPPED, error=reason)
                return BuildStatus.SKIPPED
    context_dir, dockerfile = resolve_build_paths(source, plan.context, plan.dockerfile)
    store.set_status(build.id, BuildStatus.BUILDING)
    images = DockerImages(docker_api, log=log)
    image_id = images.build(
        context_dir=context_dir,
        dockerfile=dockerfile,
        tag=plan.tags[0],
        buildargs=dict(plan.build_args),
        target=plan.target,
        labels=oci_labels(plan),
        pull=plan.pull,
    )
    for reference in plan.tags:
        images.tag(image_id, reference)
    store.set_status(build.id, BuildStatus.PUSHING)
    digest = ""
    for reference in plan.tags:
        log(f"Pushing {reference}\n")
        pushed = images.push(reference)
        log(f"Pushed {reference}@{pushed}\n")
        digest = digest or pushed
    store.set_status(build.id, BuildStatus.SUCCESS, digest=digest)
    log(f"Build succeeded: {', '.join(plan.tags)} ({digest})\n")
    return BuildStatus.SUCCESS


def mark_abandoned(job: Any, connection: Any, *exc_info: Any) -> None:
    """RQ on_failure callback: a build whose job died without recording an end is 'worker lost'."""
    build_id = job.args[0] if job.args else job.id
    settings = _settings()
    store = BuildStore.from_url(settings.database_url, log_cap=settings.log_cap_bytes)
    try:
        build = store.get_build(build_id)
        if build is None or build.status.is_terminal():
            return
        reason = exc_info[1] if len(exc_info) > 1 else None
        message = WORKER_LOST if reason is None or "Abandoned" in type(reason).__name__ else (
            f"the build job failed: {type(reason).__name__}: {reason}")
        BuildLog(store, build_id)(f"\n{message}\n")
        store.set_status(build_id, BuildStatus.FAILED, error=message)
    finally:
        store.engine.dispose()
