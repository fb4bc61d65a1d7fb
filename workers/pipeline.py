"""The phases of one build: wait for its turn, check out, build, push — each step recorded.

When its turn comes, the job builds the newest queued commit of the rule and ref
(workers/ordering.py): this build, or a newer one it supersedes this one with. The pipeline
talks to ports only (workers/ports.py, workers/build_spec.py): a checkout, a builder (BuildKit
or classic, as the plan says) and the engine's images and registry, all made by a WorkerTools
(the real EngineTools, or tests' fakes).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from core.build_options import CLASSIC
from core.config import Settings
from core.errors import BuildError, ImageBuildError
from core.events import short_ref
from core.paths import files_pass_filter
from core.plan import BuildPlan
from core.status import BuildStatus
from records.builds import BuildRecord, BuildStore
from records.coordination import StartResult, start_build
from workers.build_bases import record_bases
from workers.build_spec import BuildStopped, BuiltImage
from workers.buildlog import FLUSH_INTERVAL, BuildLog
from workers.credentials import BuildSecrets, CredentialError, resolve_credentials
from workers.hooks import Hooks, NoHooks, hook_environment
from workers.image_build import build_spec, builder_config, layer_cache, run_builder
from workers.manifests import split_reference
from workers.ordering import take_newest
from workers.ports import ImageStore, PlatformDigests, SourceCheckout, WorkerTools
from workers.publish import push_platforms, push_tags
from workers.retag import image_to_reuse, note_takeovers, pull_reused_image
from workers.stopping import BuildStopper
from workers.tools import EngineTools
from workers.watchdog import Watchdog, kill_this_process
from workers.workspace import describe_crash, resolve_build_paths, sweep_workspaces

logger = logging.getLogger(__name__)
WAIT_POLL = 1.0


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


def execute_build(build_id: str, *, store: BuildStore, settings: Settings, docker_api: Any,
                  environ: Mapping[str, str], stop: Callable[[], None] | None = None,
                  tools: WorkerTools | None = None) -> BuildStatus:
    """Run one build to its end with `tools`' adapters (default: EngineTools on `docker_api`),
    recording each transition; `stop` ends the work-horse when nothing gentler can."""
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
    made = tools or EngineTools(settings, docker_api, environ)
    turn: BuildRecord | None = build
    while turn is not None:
        turn = _run_turn(turn, store=store, settings=settings, environ=environ,
                         kill=stop or kill_this_process, workspace=workspace, tools=made)
    final = store.get_build(build_id)
    return final.status if final else BuildStatus.FAILED


def _run_turn(build: BuildRecord, *, store: BuildStore, settings: Settings,
              environ: Mapping[str, str], kill: Callable[[], None], workspace: Path,
              tools: WorkerTools) -> BuildRecord | None:
    """Build `build` (which holds its rule and ref's turn) unless a newer queued build of them
    should run instead: then return that one, which this job has claimed."""
    build_id = build.id
    try:
        secrets = resolve_credentials(build.plan, environ)
    except CredentialError as exc:
        BuildLog(store, build_id)(f"\nBuild failed while {exc.phase}: {exc.user_message}\n")
        store.set_status(build_id, BuildStatus.FAILED, error=exc.user_message)
        return None
    log = BuildLog(store, build_id, secrets=secrets.masked, interval=FLUSH_INTERVAL)
    stopper = BuildStopper(kill=_flushing(log, kill))
    watchdog = Watchdog(store, build_id, timeout=build.plan.timeout, log=log, stop=stopper)
    watchdog.start()
    workdir = Path(tempfile.mkdtemp(prefix=f"{build_id}-", dir=workspace))
    work = Work(build=build, store=store, settings=settings, log=log, workdir=workdir,
                secrets=secrets, stopper=stopper, tools=tools, environ=environ)
    try:
        log(f"Build {build_id}: {build.plan.repository} {build.plan.ref} at {build.commit}\n")
        checkout = tools.checkout(log=log, git_env=secrets.git_env)
        checkout.update(build.plan.clone_url, build.commit)
        chosen = take_newest(store, build, checkout, log)
        if chosen is None or chosen.id != build.id:
            return chosen
        outcome = _phases(replace(work, build=chosen), checkout)
    except BuildStopped:
        log("\nBuild stopped.\n")
        outcome = Outcome(BuildStatus.FAILED, "the build was stopped")
    except BuildError as exc:
        error = _blame_engine(tools, exc.user_message)
        log(f"\nBuild failed while {exc.phase}: {error}\n")
        outcome = Outcome(BuildStatus.FAILED, log.mask(error))
    except Exception as exc:
        logger.exception("build %s crashed", build_id)
        error = _blame_engine(tools, describe_crash(exc))
        log(f"\n{error}\n")
        outcome = Outcome(BuildStatus.FAILED, log.mask(error))
    finally:
        watchdog.close()
        stopper.close()
        log.flush()
    try:
        _record(store, build_id, outcome)
    finally:  # after the end is recorded: nobody waits for this (a killed build's next sweep)
        shutil.rmtree(workdir, ignore_errors=True)
    return None


def _blame_engine(tools: WorkerTools, error: str) -> str:
    """`error`, led by what is wrong with the Docker engine when it stopped answering."""
    problem = tools.engine_problem()
    return error if problem is None else f"{problem} (during the build: {error})"


def _record(store: BuildStore, build_id: str, outcome: Outcome) -> BuildStatus:
    """Record how the build ended; the status it has then (a cancel or timeout may have won)."""
    if outcome.platform_digests:
        store.record_platform_digests(build_id, outcome.platform_digests)
    if not store.set_status(build_id, outcome.status, error=outcome.error, digest=outcome.digest):
        ended = store.get_build(build_id)  # cancelled, timed out or lost while it ran
        return ended.status if ended else outcome.status
    return outcome.status


def _flushing(log: BuildLog, kill: Callable[[], None]) -> Callable[[], None]:
    """`kill`, after writing the log gathered so far (the watchdog's last words included)."""
    def end() -> None:
        try:
            log.flush()
        finally:  # even when the database does not answer: the build must end
            kill()
    return end


@dataclass(frozen=True)
class Outcome:
    """How a build ended: its status, the error to show, what it pushed."""

    status: BuildStatus
    error: str | None = None
    digest: str | None = None
    platform_digests: PlatformDigests = ()


@dataclass(frozen=True)
class Work:
    """One running build and everything its phases use."""

    build: BuildRecord
    store: BuildStore
    settings: Settings
    log: BuildLog
    workdir: Path
    secrets: BuildSecrets
    stopper: BuildStopper
    tools: WorkerTools
    environ: Mapping[str, str]


def _phases(work: Work, checkout: SourceCheckout) -> Outcome:
    plan, log = work.build.plan, work.log
    skipped = _path_filter_says_no(plan, checkout)
    if skipped is not None:
        log(f"Skipped: {skipped}\n")
        return Outcome(BuildStatus.SKIPPED, skipped)
    reused = image_to_reuse(work.store, work.build)
    if reused is not None:
        images = work.tools.images(log=log)
        image_id = pull_reused_image(work.store, work.build, reused, images,
                                     auth_config=work.secrets.auth_config, log=log)
        return _push(work, NoHooks(), images, BuiltImage(image_id=image_id), None)
    source = checkout.checkout(plan.clone_url, plan.commit, work.workdir / "src",
                               submodules=plan.submodules, lfs=plan.lfs)
    revision = checkout.head_commit(source)
    context_dir, dockerfile = resolve_build_paths(source, plan.context, plan.dockerfile)
    hooks = _hooks(plan, revision, source, context_dir / dockerfile, dockerfile, log)
    hooks.add_env(work.secrets.hook_env)
    hooks.run("post_checkout")
    work.store.set_status(work.build.id, BuildStatus.BUILDING)
    images = work.tools.images(log=log)
    with builder_config(plan, work.secrets, work.environ) as docker_config:
        hooks.run("pre_build")
        if hooks.run("build"):
            built = BuiltImage(image_id=images.image_id(plan.tags[0]))
        else:
            # BuildKit also has the logins in its docker_config; pulling first checks them and
            # names the base image when one is wrong.
            args = dict(plan.build_args) | work.secrets.build_args
            pulled = images.pull_bases(context_dir / dockerfile, pull=plan.pull,
                                       build_args=args, pull_auths=work.secrets.pull_auths)
            pull = pulled if plan.builder == CLASSIC else plan.pull
            spec = build_spec(plan, context_dir=context_dir, dockerfile=dockerfile,
                              revision=revision, secrets=work.secrets,
                              network=work.settings.build_network,
                              cache_from=layer_cache(plan, images, work.secrets),
                              docker_config=docker_config, pull=pull,
                              limits=work.settings.build_limits)
            built = run_builder(work.tools.builder(plan.builder), spec, name=plan.builder,
                                stopper=work.stopper, log=log)
        hooks.run("post_build")
        hooks.run_tests()
        record_bases(work, context_dir / dockerfile, images, built)
        work.stopper.check()
        outcome = _push(work, hooks, images, built, docker_config)
    if work.settings.prune_images:
        images.remove(plan.tags + tuple(ref for _, ref in built.platform_images))
    log(f"Build succeeded: {', '.join(plan.tags)} ({outcome.digest})\n")
    return outcome


def _push(work: Work, hooks: Hooks | NoHooks, images: ImageStore, built: BuiltImage,
          docker_config: str | None) -> Outcome:
    """Tag and push (a manifest list per tag for several platforms), between the push hooks."""
    plan, log = work.build.plan, work.log
    for reference in plan.tags[1:] if not built.platform_images else ():
        images.tag(built.image_id, reference)  # the build (or build hook) made tags[0]
    work.store.set_status(work.build.id, BuildStatus.PUSHING)
    note_takeovers(work.store, work.build, log)
    hooks.run("pre_push")
    platform_digests: PlatformDigests = ()
    if hooks.run("push"):
        digest = images.pushed_digest(plan.tags[0])
    elif built.platform_images:
        digest, platform_digests = push_platforms(images, built, plan.tags,
                                                  docker_config=docker_config, log=log)
    else:
        digest = push_tags(images, plan.tags, auth_config=work.secrets.auth_config, log=log)
    hooks.run("post_push")
    return Outcome(BuildStatus.SUCCESS, None, digest, platform_digests)


def _path_filter_says_no(plan: BuildPlan, checkout: SourceCheckout) -> str | None:
    """Why the rule's path filters skip this push, when the worker had to compute the files."""
    if plan.path_filter is None or not plan.before:
        return None
    files = checkout.changed_files(plan.clone_url, plan.before, plan.commit)
    if files is None:
        return None
    passes, reason = files_pass_filter(files, included=plan.path_filter.included_files,
                                       ignored=plan.path_filter.ignored_files)
    return None if passes else reason


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
    hooks = Hooks(folder, env=_hook_env(plan, revision, dockerfile), log=log,
                  timeout=plan.timeout)
    if plan.platforms and (hooks.has("build") or hooks.has("push")):
        raise ImageBuildError("hooks/build and hooks/push replace the default steps, which "
                              "cannot make a multi-platform image: remove the rule's platforms "
                              "or those hooks")
    return hooks


def _hook_env(plan: BuildPlan, revision: str, dockerfile: str) -> dict[str, str]:
    repository, tag = split_reference(plan.tags[0])
    return hook_environment(source_ref=short_ref(plan.ref), commit=revision,
                            message=plan.commit_message, image=repository, tag=tag,
                            dockerfile=dockerfile)
