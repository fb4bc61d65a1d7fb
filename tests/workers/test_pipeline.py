"""The build pipeline with recording fakes behind its ports: no engine, no git, no registry.

Each test runs execute_build on a real SQLite store (statuses, phase times, log) with
tests/fakes.py's FakeTools: what the pipeline asked the checkout, builder and image store to do,
and in which order, is in `tools.events`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.config import Settings
from core.credentials import RegistryAuth, SecretRef
from core.plan import TRIGGER_BASE_IMAGE, TRIGGER_PUSH, PathFilter
from core.status import BuildStatus
from records.builds import BuildRecord, BuildStore
from records.db import make_engine
from records.migrate import prepare
from tests.factories import make_plan, stored_build
from tests.fakes import IMAGE_ID, FakeTools, fake_digest
from tests.waiting import wait_until
from workers.image_build import NETWORK_HINT
from workers.pipeline import execute_build

TAG = make_plan().tags[0]
REPOSITORY = TAG.rsplit(":", 1)[0]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[BuildStore]:
    """A store on a fresh SQLite database."""
    engine = make_engine(f"sqlite:///{tmp_path}/pipeline.db")
    prepare(engine, mode="auto")
    yield BuildStore(engine)
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A worker's settings: RUN steps on network none, as on these machines."""
    return Settings(var_dir=str(tmp_path / "var"), database_url="sqlite://", redis_url="",
                    rules_path="", api_token="", secret_key="", build_network="none")


class Run:
    """One build through execute_build with fakes; `kills` counts work-horse kills."""

    def __init__(self, store: BuildStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.kills = 0

    def kill(self) -> None:
        self.kills += 1

    def __call__(self, tools: FakeTools, *, environ: dict[str, str] | None = None,
                 **plan_changes: Any) -> BuildRecord:
        build = stored_build(self.store, **plan_changes)
        status = execute_build(build.id, store=self.store, settings=self.settings,
                               docker_api=None, environ=environ or {}, stop=self.kill,
                               tools=tools)
        done = self.store.get_build(build.id)
        assert done is not None and done.status is status
        return done

    def log(self, build: BuildRecord) -> str:
        return self.store.get_log(build.id)


@pytest.fixture
def run(store: BuildStore, settings: Settings) -> Run:
    return Run(store, settings)


def test_a_build_checks_out_builds_tags_pushes_and_records_each_phase(run: Run) -> None:
    tools = FakeTools()
    tags = (TAG, f"{REPOSITORY}:v1")
    build = run(tools, tags=tags, build_args=(("MODE", "fast"),), target="prod",
                labels=(("org.example.team", "web"),))
    assert build.status is BuildStatus.SUCCESS and build.error is None
    assert build.digest == fake_digest(TAG)
    phases = build.phase_times()
    assert None not in phases.values()
    assert phases["cloning"] < phases["building"] < phases["pushing"] < phases["finished"]
    assert tools.events == [("checkout", "a" * 40), ("build", TAG), ("tag", IMAGE_ID, tags[1]),
                            ("push", TAG), ("push", tags[1])]
    assert tools.builders == ["buildkit"]
    (spec,) = tools.builder_fake.specs
    assert (spec.dockerfile, spec.target, spec.network) == ("Dockerfile", "prod", "none")
    assert spec.cache_from == (TAG,) and not spec.no_cache  # BuildKit: from the registry
    assert spec.build_args == (("MODE", "fast"),)
    labels = dict(spec.labels)
    assert labels["org.example.team"] == "web"
    assert labels["org.opencontainers.image.revision"] == "a" * 40
    log = run.log(build)
    assert f"Building {TAG} with BuildKit (RUN steps: network none)" in log
    assert f"Layer cache: {TAG} from the registry" in log
    assert "#1 [1/1] FROM scratch" in log and f"Build succeeded: {TAG}, {tags[1]}" in log


@pytest.mark.parametrize(("local", "cache_from"), [
    pytest.param(True, (TAG,), id="previous-image-available"),
    pytest.param(False, (), id="no-previous-image"),
])
def test_the_classic_builder_needs_its_cache_image_on_the_engine(
        run: Run, local: bool, cache_from: tuple[str, ...]) -> None:
    tools = FakeTools(images={"local": local})
    build = run(tools, builder="classic")
    assert build.status is BuildStatus.SUCCESS
    assert tools.builders == ["classic"] and tools.events[1] == ("ensure_local", TAG)
    assert tools.builder_fake.specs[0].cache_from == cache_from
    assert "with the classic builder (RUN steps: network none)" in run.log(build)


def test_cache_false_builds_without_any_cache(run: Run) -> None:
    tools = FakeTools()
    run(tools, cache=False)
    (spec,) = tools.builder_fake.specs
    assert spec.no_cache and spec.cache_from == ()


def test_a_clone_failure_fails_before_building(run: Run) -> None:
    tools = FakeTools(checkout={"error": "could not fetch https://github.com/x.git: denied"})
    build = run(tools)
    assert build.status is BuildStatus.FAILED
    assert build.error == "could not fetch https://github.com/x.git: denied"
    assert build.building_at is None and build.digest is None
    assert tools.events == [], "the fetch into the mirror failed: nothing was checked out"
    assert "Build failed while cloning: could not fetch" in run.log(build)


def test_a_build_failure_names_the_step_and_moves_no_tag(run: Run) -> None:
    error = "[2/2] RUN exit 3: executor failed running [/bin/sh -c exit 3]: exit code: 3"
    tools = FakeTools(builder={"error": error})
    build = run(tools)
    assert (build.status, build.error, build.digest) == (BuildStatus.FAILED, error, None)
    assert build.pushing_at is None
    assert [e[0] for e in tools.events] == ["checkout", "build"]
    assert f"Build failed while building: {error}" in run.log(build)


def test_a_missing_dockerfile_fails_before_the_builder_runs(run: Run) -> None:
    tools = FakeTools(files={"README.md": "no Dockerfile here"})
    build = run(tools)
    assert (build.status, build.error) == (BuildStatus.FAILED,
                                           "Dockerfile not found at 'Dockerfile'")
    assert tools.builder_fake.specs == []


def test_no_default_bridge_gets_a_hint_naming_the_setting(run: Run) -> None:
    run.settings = Settings(**{**run.settings.__dict__, "build_network": "default"})
    tools = FakeTools(builder={"error": "[2/2] RUN true: network bridge not found"})
    build = run(tools)
    assert build.error == f"[2/2] RUN true: network bridge not found ({NETWORK_HINT})"
    assert "AUTOBUILD_BUILD_NETWORK=none" in NETWORK_HINT


def test_an_authentication_error_is_not_retried(run: Run) -> None:
    tools = FakeTools(images={"push_errors": ["unauthorized: authentication required"]})
    build = run(tools)
    assert build.status is BuildStatus.FAILED
    assert build.error == f"pushing {TAG} failed: unauthorized: authentication required"
    assert [e for e in tools.events if e[0] == "push"] == [("push", TAG)]
    assert "Build failed while pushing" in run.log(build) and "retrying" not in run.log(build)


def test_a_registry_outage_is_retried(run: Run) -> None:
    tools = FakeTools(images={"push_errors": ["received unexpected HTTP status: 503"]})
    build = run(tools)
    assert build.status is BuildStatus.SUCCESS and build.digest == fake_digest(TAG)
    assert [e for e in tools.events if e[0] == "push"] == [("push", TAG), ("push", TAG)]
    assert "retrying in 1 s" in run.log(build)


def test_registry_credentials_reach_the_push_and_are_masked(run: Run) -> None:
    password = "registry-pa55word-9"
    tools = FakeTools(builder={"output": f"#5 [2/2] RUN echo {password}\n"})
    build = run(tools, environ={"REG_PW": password},
                registry_auth=RegistryAuth("bot", SecretRef(env="REG_PW")))
    assert build.status is BuildStatus.SUCCESS
    assert tools.images_fake.auth_configs == [{"username": "bot", "password": password}]
    assert tools.builder_fake.specs[0].docker_config is not None  # BuildKit's private config
    assert password not in run.log(build) and "#5 [2/2] RUN echo ***" in run.log(build)


def test_a_missing_credential_fails_naming_the_secret_before_cloning(run: Run) -> None:
    tools = FakeTools()
    build = run(tools, secrets=(("npm_token", SecretRef(env="NPM_TOKEN")),))
    assert build.status is BuildStatus.FAILED
    assert build.error == "build secret npm_token: environment variable NPM_TOKEN is not set"
    assert tools.events == []
    assert "Build failed while reading credentials: build secret npm_token" in run.log(build)


def test_build_secrets_reach_the_builder_and_never_the_log_or_the_error(
        run: Run, tmp_path: Path) -> None:
    value, file_value = "npm-secret-value-1234", "file-secret-content-5678"
    (tmp_path / "npmrc").write_text(file_value + "\n")
    leak = f"#6 0.1 {value} {file_value}\n"
    tools = FakeTools(builder={"output": leak, "error": f"[2/2] RUN leak {value}: exit code: 1"})
    build = run(tools, environ={"NPM_TOKEN": value},
                secrets=(("npm_token", SecretRef(env="NPM_TOKEN")),
                         ("npmrc", SecretRef(file=str(tmp_path / "npmrc")))))
    (spec,) = tools.builder_fake.specs
    assert [(s.id, s.value, s.file) for s in spec.secrets] == [
        ("npm_token", value, None), ("npmrc", None, str(tmp_path / "npmrc"))]
    log = run.log(build)
    assert "#6 0.1 *** ***" in log and value not in log and file_value not in log
    assert build.error == "[2/2] RUN leak ***: exit code: 1"
    assert value not in repr(build.to_dict()) and value not in repr(build.plan.to_dict())


def test_a_missing_secret_file_is_named_by_its_id(run: Run, tmp_path: Path) -> None:
    build = run(FakeTools(), secrets=(("npmrc", SecretRef(file=str(tmp_path / "gone"))),))
    assert build.error == (f"build secret npmrc: the file {tmp_path / 'gone'} is missing or "
                           "unreadable on this worker")


def test_two_platforms_push_one_manifest_list_and_record_each_digest(run: Run) -> None:
    platforms = ("linux/amd64", "linux/arm64")
    tools = FakeTools()
    tags = (TAG, f"{REPOSITORY}:v2")
    build = run(tools, tags=tags, platforms=platforms, environ={"REG_PW": "reg-pass"},
                registry_auth=RegistryAuth("bot", SecretRef(env="REG_PW")))
    assert build.status is BuildStatus.SUCCESS
    assert tools.builder_fake.specs[0].platforms == platforms
    assert tools.events[1:] == [("build", TAG), ("push_list", *tags)]
    assert build.digest == fake_digest("list:" + TAG)
    staging = f"{REPOSITORY}-autobuild-platforms"
    assert build.platform_digests == (
        ("linux/amd64", fake_digest(f"{staging}:latest-linux-amd64")),
        ("linux/arm64", fake_digest(f"{staging}:latest-linux-arm64")))
    assert tools.images_fake.docker_configs[0] is not None
    assert build.to_dict()["platform_digests"][1]["platform"] == "linux/arm64"


def test_a_failing_platform_fails_the_build_and_moves_no_tag(run: Run) -> None:
    error = "linux/arm64: [2/2] RUN test $(uname -m) = x86_64: exit code: 1"
    tools = FakeTools(builder={"error": error})
    build = run(tools, platforms=("linux/amd64", "linux/arm64"))
    assert (build.status, build.error, build.platform_digests) == (BuildStatus.FAILED, error, ())
    assert [e[0] for e in tools.events] == ["checkout", "build"]


def test_pruning_removes_the_tags_and_the_platform_images(run: Run) -> None:
    run.settings = Settings(**{**run.settings.__dict__, "prune_images": True})
    tools = FakeTools()
    run(tools, platforms=("linux/amd64", "linux/arm64"))
    staging = f"{REPOSITORY}-autobuild-platforms"
    assert tools.events[-1] == ("remove", TAG, f"{staging}:latest-linux-amd64",
                                f"{staging}:latest-linux-arm64")


@pytest.mark.parametrize(("changed", "status"), [
    pytest.param(["docs/guide.md"], BuildStatus.SKIPPED, id="only-docs"),
    pytest.param(["svc/main.py"], BuildStatus.SUCCESS, id="service-changed"),
    pytest.param(None, BuildStatus.SUCCESS, id="before-unknown"),
])
def test_the_worker_applies_path_filters(run: Run, changed: list[str] | None,
                                          status: BuildStatus) -> None:
    tools = FakeTools(checkout={"changed": changed})
    build = run(tools, before="b" * 40, path_filter=PathFilter(included_files=("svc/**",)))
    assert build.status is status
    assert ("changed_files", "b" * 40, "a" * 40) in tools.events
    if status is BuildStatus.SKIPPED:
        assert "included_files" in (build.error or "") and tools.builder_fake.specs == []
        assert build.building_at is None and "Skipped:" in run.log(build)


HOOK = "#!/bin/sh\necho \"hook=$(basename $0)\"\n"


def test_hooks_run_in_docker_hubs_order_around_the_default_steps(run: Run) -> None:
    names = ("post_checkout", "pre_build", "post_build", "pre_push", "post_push")
    tools = FakeTools(files={"Dockerfile": "FROM scratch\n",
                             **{f"hooks/{name}": HOOK for name in names}})
    build = run(tools, hooks=True)
    assert build.status is BuildStatus.SUCCESS
    log = run.log(build)
    order = [line for line in log.splitlines() if line.startswith(("hook=", "Building ",
                                                                  "Pushing "))]
    assert order == ["hook=post_checkout", "hook=pre_build", f"Building {TAG} with BuildKit "
                     "(RUN steps: network none)", "hook=post_build", "hook=pre_push",
                     f"Pushing {TAG}", "hook=post_push"]


def test_build_and_push_hooks_replace_the_default_steps(run: Run) -> None:
    tools = FakeTools(files={"Dockerfile": "FROM scratch\n", "hooks/build": HOOK,
                             "hooks/push": HOOK})
    build = run(tools, hooks=True)
    assert build.status is BuildStatus.SUCCESS and build.digest == fake_digest(TAG)
    assert tools.builder_fake.specs == []
    assert [e[0] for e in tools.events] == ["checkout", "image_id", "pushed_digest"]


def test_hooks_cannot_replace_a_multi_platform_build(run: Run) -> None:
    tools = FakeTools(files={"Dockerfile": "FROM scratch\n", "hooks/build": HOOK})
    build = run(tools, hooks=True, platforms=("linux/amd64", "linux/arm64"))
    assert build.status is BuildStatus.FAILED
    assert "cannot make a multi-platform image" in (build.error or "")


def running(run: Run, tools: FakeTools, **plan_changes: Any
            ) -> tuple[BuildRecord, threading.Thread, list[BuildStatus]]:
    """A build started in a thread, its (blocking) builder running."""
    build = stored_build(run.store, **plan_changes)
    result: list[BuildStatus] = []
    thread = threading.Thread(target=lambda: result.append(execute_build(
        build.id, store=run.store, settings=run.settings, docker_api=None, environ={},
        stop=run.kill, tools=tools)), daemon=True)
    thread.start()
    assert tools.builder_fake.started.wait(10), "the builder never started"
    return build, thread, result


def test_cancel_reaches_the_builder_through_the_watchdog(run: Run) -> None:
    tools = FakeTools(builder={"block": True})
    build, thread, result = running(run, tools)
    assert run.store.set_status(build.id, BuildStatus.CANCELLED, error="cancelled by api")
    thread.join(10)
    assert result == [BuildStatus.CANCELLED] and tools.builder_fake.stops == 1
    assert run.kills == 0  # BuildKit stopped by itself: the work-horse lives on
    assert [e[0] for e in tools.events] == ["checkout", "build", "stop"]
    done = run.store.get_build(build.id)
    assert done is not None and done.error == "cancelled by api" and done.digest is None
    assert "Build cancelled: stopping it now." in run.log(done)


def test_a_builder_that_cannot_stop_is_ended_with_the_work_horse(run: Run) -> None:
    tools = FakeTools(builder={"block": True, "can_stop": False})
    build, thread, result = running(run, tools, builder="classic")
    assert run.store.set_status(build.id, BuildStatus.CANCELLED)
    wait_until(lambda: run.kills, 10, "the work-horse being ended")
    tools.builder_fake.release()  # as the process's death would end the build
    thread.join(10)
    assert result == [BuildStatus.CANCELLED] and tools.builder_fake.stops == 1


def test_a_timeout_stops_the_build_and_ends_timed_out(run: Run) -> None:
    tools = FakeTools(builder={"block": True})
    build, thread, result = running(run, tools, timeout=1)
    thread.join(15)
    assert result == [BuildStatus.TIMED_OUT] and tools.builder_fake.stops == 1
    done = run.store.get_build(build.id)
    assert done is not None
    assert done.error == "build timed out: it ran longer than its timeout of 1 s"
    assert "Build timed out after 1 s" in run.log(done) and "Build stopped." in run.log(done)


def test_a_failure_while_the_engine_is_down_names_the_engine(run: Run) -> None:
    down = ("the connection to the Docker engine at unix:///var/run/docker.sock failed: "
            "Connection refused")
    tools = FakeTools(builder={"error": "error reading from server: EOF"}, engine_down=down)

    build = run(tools)

    assert build.status is BuildStatus.FAILED
    assert build.error == f"{down} (during the build: error reading from server: EOF)"
    assert f"Build failed while building: {build.error}" in run.log(build)


def test_a_failure_with_the_engine_up_keeps_its_own_message(run: Run) -> None:
    build = run(FakeTools(builder={"error": "[1/1] RUN false: exit code: 1"}))
    assert build.error == "[1/1] RUN false: exit code: 1"


@pytest.mark.parametrize("job_of", ["rebuild", "push"])
def test_a_push_that_supersedes_a_base_image_rebuild_pulls_the_bases(
        store: BuildStore, settings: Settings, job_of: str) -> None:
    ref = "refs/heads/patched"
    rebuild = stored_build(store, commit="1" * 40, ref=ref, trigger=TRIGGER_BASE_IMAGE,
                           pull=True)
    push = stored_build(store, commit="2" * 40, ref=ref, trigger=TRIGGER_PUSH, pull=False)
    tools = FakeTools()
    job = rebuild if job_of == "rebuild" else push
    execute_build(job.id, store=store, settings=settings, docker_api=None, environ={},
                  stop=lambda: None, tools=tools)

    ended = {b.id: store.get_build(b.id) for b in (rebuild, push)}
    assert ended[rebuild.id].status is BuildStatus.SUPERSEDED  # type: ignore[union-attr]
    assert ended[push.id].status is BuildStatus.SUCCESS  # type: ignore[union-attr]
    (spec,) = tools.builder_fake.specs
    assert spec.pull is True
    assert (f"Pulling the base images: this build replaces build {rebuild.id}, which was to "
            "pull them.") in store.get_log(push.id)
