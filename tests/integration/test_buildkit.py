"""The BuildKit builder on the real engine, registry and QEMU: options, failures, caches, secrets,
multi-platform manifest lists, stopping, and registry credentials."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import docker
import docker.errors
import pytest
import requests

from core.errors import ImageBuildError, PushError
from tests.integration.buildkit_support import (
    IMAGE_TYPES,
    LogCollector,
    environ_without_docker_config,
    forget_step_cache,
    is_running,
    parent_pid,
    processes_with,
    registry_get,
    registry_tags,
    step_number,
    wait_until,
    write_context,
)
from tests.integration.conftest import BASE_IMAGE, REGISTRY, free_port, unique_image
from tests.integration.engines import output_of
from workers.build_spec import BuildSpec, BuildStopped, BuiltImage, SecretSource
from workers.buildkit import PRIVATE_PREFIX, SHM, BuildKitBuilder, private_folder
from workers.docker_cli import DOCKER_CLI, cli_environment, registry_config
from workers.manifests import push_platform_list, split_reference, staging_reference

pytestmark = pytest.mark.integration
MULTI_BASE = f"{REGISTRY}/local/busybox:latest"   # amd64 + arm64 list, by scripts/platforms.sh
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def engine(docker_client: docker.DockerClient) -> docker.DockerClient:
    """The engine, with the registry up and the two-platform base and QEMU in place."""
    try:
        index, _ = registry_get(MULTI_BASE)
        platforms = {m["platform"]["architecture"] for m in index["manifests"]}
        assert {"amd64", "arm64"} <= platforms
        assert Path("/proc/sys/fs/binfmt_misc/qemu-aarch64").read_text().startswith("enabled")
    except Exception as exc:  # noqa: BLE001 - any gap means the stack is not set up
        pytest.fail(f"{MULTI_BASE} (two platforms) or qemu-aarch64 is missing ({exc}); "
                    "run scripts/stack.sh (it runs scripts/platforms.sh)")
    return docker_client


@pytest.fixture
def made(engine: docker.DockerClient) -> Iterator[list[str]]:
    """Local image references a test creates; removed afterwards."""
    references: list[str] = []
    yield references
    for reference in references:
        try:
            engine.images.remove(reference, force=True)
        except docker.errors.ImageNotFound:
            pass


def build(spec: BuildSpec, made: list[str], log: LogCollector | None = None) -> BuiltImage:
    """Build with a fresh builder, remembering what to clean up."""
    made.append(spec.tag)
    made.extend(staging_reference(spec.tag, p) for p in spec.platforms)
    return BuildKitBuilder().build(spec, log=log or LogCollector())


def spec_for(tmp_path: Path, content: str, tag: str | None = None, **changes: object
             ) -> BuildSpec:
    """A spec over a fresh context holding a Dockerfile with `content` (and a file to COPY)."""
    context = write_context(tmp_path / f"ctx-{uuid.uuid4().hex[:8]}",
                            {"Dockerfile": content, "hello.txt": "hello\n"})
    fields: dict[str, object] = {"context_dir": context, "dockerfile": "Dockerfile",
                                 "tag": tag or f"{unique_image('bk')}:latest", "network": "none"}
    fields.update(changes)
    return BuildSpec(**fields)  # type: ignore[arg-type]


def test_options_reach_the_image_and_output_reaches_the_log(
        engine: docker.DockerClient, made: list[str], tmp_path: Path) -> None:
    marker = uuid.uuid4().hex
    dockerfile = (f"FROM {BASE_IMAGE} AS base\nARG GREETING\nCOPY hello.txt /hello.txt\n"
                  f'RUN echo "greeting=$GREETING" > /greeting && echo "run-output-{marker}"\n'
                  "FROM base AS final\nRUN echo final > /stage\n"
                  "FROM base AS other\nRUN echo other > /stage\n")
    log = LogCollector()
    spec = spec_for(tmp_path, dockerfile, build_args=(("GREETING", "hi there"),),
                    target="final", labels=(("org.example.one", "1"), ("org.example.two", "2")))
    built = build(spec, made, log)
    image = engine.images.get(spec.tag)
    assert built.image_id == image.id and built.platform_images == ()
    assert image.labels["org.example.one"] == "1" and image.labels["org.example.two"] == "2"
    assert output_of(engine, built.image_id, "cat", "/greeting", "/stage") == (
        "greeting=hi there\nfinal\n")
    assert f"run-output-{marker}" in log.text and "[internal] load build definition" in log.text


@pytest.mark.parametrize(("network", "succeeds"), [pytest.param("host", True, id="host"),
                                                   pytest.param("none", False, id="none")])
def test_the_network_option_decides_what_run_steps_reach(
        engine: docker.DockerClient, made: list[str], tmp_path: Path, network: str,
        succeeds: bool) -> None:
    step = f"RUN wget -q -O /answer http://{REGISTRY}/v2/ # {uuid.uuid4().hex}"
    spec = spec_for(tmp_path, f"FROM {BASE_IMAGE}\n{step}\n", network=network)
    if succeeds:
        assert output_of(engine, build(spec, made).image_id, "cat", "/answer") == "{}"
    else:
        with pytest.raises(ImageBuildError, match=r"^\[2/2\] RUN wget"):
            build(spec, made)


@pytest.mark.parametrize(("dockerfile", "message"), [
    pytest.param(f"FROM {BASE_IMAGE}\nRUN exit 3\n", "[2/2] RUN exit 3: executor failed running "
                 "[/bin/sh -c exit 3]: exit code: 3", id="run"),
    pytest.param(f"# syntax=docker/dockerfile:1\nFROM {BASE_IMAGE}\n", "the Dockerfile's "
                 "# syntax= line needs the frontend image docker/dockerfile:1, which could not "
                 "be pulled: ", id="syntax-line"),
    pytest.param(f"FROM {REGISTRY}/no-such-base/image:latest\n", f"base image {REGISTRY}/"
                 "no-such-base/image:latest not found in its registry", id="missing-base"),
    pytest.param(f"FROM {BASE_IMAGE}\nCOPY nothere.txt /\n", "[2/2] COPY nothere.txt /: "
                 "nothere.txt is not in the build context (or .dockerignore excludes it)",
                 id="failing-copy"),
])
def test_failures_are_one_clear_line(engine: docker.DockerClient, made: list[str],
                                     tmp_path: Path, dockerfile: str, message: str) -> None:
    with pytest.raises(ImageBuildError) as caught:
        build(spec_for(tmp_path, dockerfile), made)
    assert caught.value.user_message.startswith(message)
    assert "\n" not in caught.value.user_message


def test_a_missing_dockerfile_is_named(engine: docker.DockerClient, made: list[str],
                                       tmp_path: Path) -> None:
    with pytest.raises(ImageBuildError, match="^Dockerfile not found at 'sub/Dockerfile'"):
        build(spec_for(tmp_path, "FROM scratch\n", dockerfile="sub/Dockerfile"), made)


def test_a_cache_mount_keeps_its_content_between_builds(
        engine: docker.DockerClient, made: list[str], tmp_path: Path) -> None:
    cache_id = uuid.uuid4().hex
    dockerfile = (f"FROM {BASE_IMAGE}\nARG ROUND\n"
                  f"RUN --mount=type=cache,target=/cache,id={cache_id} "
                  'echo "round $ROUND" >> /cache/rounds && cat /cache/rounds > /seen\n')
    first = build(spec_for(tmp_path, dockerfile, build_args=(("ROUND", "1"),)), made)
    second = build(spec_for(tmp_path, dockerfile, build_args=(("ROUND", "2"),)), made)
    assert output_of(engine, first.image_id, "cat", "/seen") == "round 1\n"
    assert output_of(engine, second.image_id, "cat", "/seen") == "round 1\nround 2\n"


def test_a_pushed_image_is_the_layer_cache_of_the_next_build(
        engine: docker.DockerClient, made: list[str], tmp_path: Path) -> None:
    marker = uuid.uuid4().hex
    step = f"RUN echo {marker} > /marker"
    dockerfile = f"FROM {BASE_IMAGE}\n{step}\n"
    spec = spec_for(tmp_path, dockerfile)
    build(spec, made)
    repository, tag = split_reference(spec.tag)
    assert "error" not in engine.images.push(repository, tag=tag)
    engine.images.remove(spec.tag)
    forget_step_cache(engine, marker)
    log = LogCollector()
    rebuilt = build(spec_for(tmp_path, dockerfile, tag=spec.tag, cache_from=(spec.tag,)),
                    made, log)
    assert f"importing cache manifest from {spec.tag}" in log.text
    assert f"{step_number(log.text, f'[2/2] {step}')} CACHED" in log.text.splitlines()
    assert output_of(engine, rebuilt.image_id, "cat", "/marker") == f"{marker}\n"


def test_secrets_are_used_but_never_in_the_image_or_the_log(
        engine: docker.DockerClient, made: list[str], tmp_path: Path) -> None:
    value = f"tok-{uuid.uuid4().hex}"
    file_value = f"file-{uuid.uuid4().hex}"
    (tmp_path / "npmrc").write_text(file_value)
    dockerfile = (f"FROM {BASE_IMAGE}\n"
                  "RUN --mount=type=secret,id=tok --mount=type=secret,id=npmrc "
                  "wc -c < /run/secrets/tok > /tok-bytes && "
                  "wc -c < /run/secrets/npmrc > /f-bytes\n")
    log = LogCollector()
    spec = spec_for(tmp_path, dockerfile, secrets=(
        SecretSource("tok", value=value), SecretSource("npmrc", file=str(tmp_path / "npmrc"))))
    built = build(spec, made, log)
    assert output_of(engine, built.image_id, "cat", "/tok-bytes", "/f-bytes").split() == [
        str(len(value)), str(len(file_value))]
    history = subprocess.run([DOCKER_CLI, "history", "--no-trunc", built.image_id],
                             capture_output=True, text=True, check=True).stdout
    inspected = json.dumps(engine.api.inspect_image(built.image_id))
    saved = b"".join(engine.images.get(built.image_id).save())
    layers = tarfile.open(fileobj=io.BytesIO(saved))
    contents = b"".join(layers.extractfile(m).read()  # type: ignore[union-attr]
                        for m in layers.getmembers() if m.isfile())
    for secret in (value, file_value):
        assert secret not in history and secret not in inspected and secret not in log.text
        assert secret.encode() not in saved and secret.encode() not in contents
    missing = spec_for(tmp_path, dockerfile, secrets=(
        SecretSource("tok", value=value), SecretSource("npmrc", file=str(tmp_path / "gone"))))
    with pytest.raises(ImageBuildError) as caught:
        build(missing, made)
    assert "'npmrc'" in caught.value.user_message and value not in caught.value.user_message


def test_two_platforms_become_one_manifest_list_run_under_qemu(
        engine: docker.DockerClient, made: list[str], tmp_path: Path) -> None:
    repository = unique_image("bk-multi")
    tags = (f"{repository}:v1", f"{repository}:latest")
    dockerfile = f"FROM {MULTI_BASE}\nRUN uname -m > /arch # {uuid.uuid4().hex}\n"
    spec = spec_for(tmp_path, dockerfile, tag=tags[0], pull=True,
                    platforms=("linux/amd64", "linux/arm64"))
    built = build(spec, made)
    assert [p for p, _ in built.platform_images] == ["linux/amd64", "linux/arm64"]
    list_digest, digests = push_platform_list(built.platform_images, tags, docker_config=None,
                                              log=LogCollector())
    for tag in tags:
        index, served = registry_get(tag)
        assert served == list_digest
        # (docker manifest orders the entries by digest, not as given: clients pick by platform)
        assert {f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"]
                for m in index["manifests"]} == dict(digests)
    for _, digest in digests:  # the platform manifests are in the user's repository by digest
        registry_get(f"{repository}@{digest}", accept=IMAGE_TYPES)
    assert registry_tags(repository) == ["latest", "v1"]
    assert registry_tags(split_reference(built.platform_images[0][1])[0]) == [
        "v1-linux-amd64", "v1-linux-arm64"]
    for reference in made:
        try:
            engine.images.remove(reference, force=True)
        except docker.errors.ImageNotFound:
            pass
    for platform, arch in (("linux/arm64", "aarch64"), ("linux/amd64", "x86_64")):
        pulled = engine.images.pull(repository, tag="v1", platform=platform)
        assert output_of(engine, pulled.id, "cat", "/arch", platform=platform) == f"{arch}\n"
        engine.images.remove(pulled.id, force=True)


def test_a_pushed_manifest_list_is_the_layer_cache_of_each_platform(
        engine: docker.DockerClient, made: list[str], tmp_path: Path) -> None:
    marker = uuid.uuid4().hex
    step = f"RUN echo {marker} > /m && uname -m >> /m"
    content = f"FROM {MULTI_BASE}\n{step}\n"
    platforms = ("linux/amd64", "linux/arm64")
    repository = unique_image("bk-multicache")
    first = build(spec_for(tmp_path, content, tag=f"{repository}:v1", platforms=platforms), made)
    push_platform_list(first.platform_images, (f"{repository}:v1",), docker_config=None,
                       log=LogCollector())
    for _, reference in first.platform_images:
        engine.images.remove(reference)
    forget_step_cache(engine, marker)
    log = LogCollector()
    build(spec_for(tmp_path, content, tag=f"{repository}:v2", platforms=platforms,
                   cache_from=(f"{repository}:v1",)), made, log)
    for platform, text in zip(platforms, log.text.split("Building for ")[1:], strict=True):
        assert text.startswith(platform)
        assert f"{step_number(text, f'[2/2] {step}')} CACHED" in text.splitlines()


def test_a_failing_platform_fails_the_whole_build(engine: docker.DockerClient, made: list[str],
                                                 tmp_path: Path) -> None:
    dockerfile = f'FROM {MULTI_BASE}\nRUN test "$(uname -m)" = x86_64 # {uuid.uuid4().hex}\n'
    spec = spec_for(tmp_path, dockerfile, platforms=("linux/amd64", "linux/arm64"))
    with pytest.raises(ImageBuildError) as caught:
        build(spec, made)
    assert caught.value.user_message.startswith("linux/arm64: [2/2] RUN test")
    assert registry_tags(split_reference(spec.tag)[0]) is None


def sleeping_spec(tmp_path: Path) -> tuple[BuildSpec, str, str]:
    """A build whose RUN step sleeps with a unique duration; (spec, marker, seconds)."""
    marker, seconds = uuid.uuid4().hex, str(30000 + uuid.uuid4().int % 9999)
    dockerfile = (f"FROM {BASE_IMAGE}\nRUN --mount=type=secret,id=tok "
                  f"echo started-{marker} && sleep {seconds}\n")
    spec = spec_for(tmp_path, dockerfile, secrets=(SecretSource("tok", value="v"),))
    return spec, marker, seconds


@pytest.fixture
def sleeping(tmp_path: Path) -> Iterator[tuple[BuildSpec, str, str]]:
    """sleeping_spec(), and its CLI ended afterwards should a failing test leave it running."""
    made = sleeping_spec(tmp_path)
    yield made
    for pid in processes_with(DOCKER_CLI, str(made[0].context_dir)):
        os.killpg(pid, signal.SIGKILL)  # the CLI leads its own process group


def run_step_parents(seconds: str) -> list[int]:
    """The runc processes BuildKit runs the sleeping RUN step under (its parents)."""
    return [parent_pid(pid) for pid in processes_with("sleep\0", seconds)]


def assert_build_is_gone(engine: docker.DockerClient, spec: BuildSpec, seconds: str,
                         runc_pids: list[int]) -> None:
    """No CLI process of the build, no RUN process or its runc, no container with its command."""
    wait_until(lambda: not processes_with(str(spec.context_dir)), "the docker CLI's exit")
    wait_until(lambda: not [p for p in processes_with("sleep\0", seconds) if is_running(p)],
               "the end of the RUN step's process")
    wait_until(lambda: not [p for p in runc_pids if is_running(p)], "the end of its runc")
    assert not [c for c in engine.containers.list(all=True)
                if seconds in json.dumps(c.attrs["Config"].get("Cmd"))]


def test_stop_ends_a_running_step_at_once(engine: docker.DockerClient, made: list[str],
                                          sleeping: tuple[BuildSpec, str, str]) -> None:
    spec, marker, seconds = sleeping
    builder, log = BuildKitBuilder(), LogCollector()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            builder.build(spec, log=log)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    made.append(spec.tag)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: f"started-{marker}" in log.text, "the RUN step's first output")
        assert processes_with(str(spec.context_dir))
        runc = wait_until(lambda: run_step_parents(seconds), "the RUN step's process")
    finally:
        builder.stop()
    thread.join(60)
    assert not thread.is_alive() and isinstance(errors[0], BuildStopped)
    assert_build_is_gone(engine, spec, seconds, runc)


def test_a_killed_worker_takes_its_build_along(engine: docker.DockerClient, made: list[str],
                                               sleeping: tuple[BuildSpec, str, str]) -> None:
    spec, marker, seconds = sleeping
    made.append(spec.tag)
    program = ("import sys; from pathlib import Path\n"
               "from workers.build_spec import BuildSpec\n"
               "from workers.buildkit import BuildKitBuilder\n"
               "from workers.build_spec import SecretSource\n"
               "spec = BuildSpec(context_dir=Path(sys.argv[1]), dockerfile='Dockerfile', "
               "tag=sys.argv[2], network='none', secrets=(SecretSource('tok', value='v'),))\n"
               "BuildKitBuilder().build(spec, log=lambda t: print(t, end='', flush=True))\n")
    worker = subprocess.Popen([sys.executable, "-c", program, str(spec.context_dir), spec.tag],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    log = LogCollector()

    def read() -> None:
        for line in worker.stdout or []:
            log(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_until(lambda: f"started-{marker}" in log.text, "the RUN step's first output")
        runc = wait_until(lambda: run_step_parents(seconds), "the RUN step's process")
    finally:
        worker.send_signal(signal.SIGKILL)  # as the watchdog's kill_this_process does
    worker.wait(30)
    reader.join(30)
    assert_build_is_gone(engine, spec, seconds, runc)
    # Its private folder (secret files) outlived it; the next build on this machine removes it.
    left = list(Path(SHM).glob(f"{PRIVATE_PREFIX}{worker.pid}-*"))
    assert left and (left[0] / "secret-0").read_text() == "v"
    with private_folder():
        assert not left[0].exists()


@pytest.fixture(scope="module")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """A docker-registry on its own loopback port that needs a login: (address, user, pass)."""
    folder = tmp_path_factory.mktemp("bk-auth-registry")
    user, password = "bk-builder", f"pw-{uuid.uuid4().hex}"
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
    (folder / "htpasswd").write_text(f"{user}:{hashed}\n")
    address = f"127.0.0.1:{free_port()}"
    (folder / "config.yml").write_text(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {folder / 'data'}\nhttp:\n  addr: {address}\n"
        f"auth:\n  htpasswd:\n    realm: bk-tests\n    path: {folder / 'htpasswd'}\n")
    process = subprocess.Popen(["docker-registry", "serve", str(folder / "config.yml")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: _answers(address), "the htpasswd registry's start", 20)
    yield address, user, password
    process.terminate()
    process.wait(timeout=10)


def _answers(address: str) -> bool:
    try:
        return requests.get(f"http://{address}/v2/", timeout=2).status_code == 401
    except requests.ConnectionError:
        return False


def test_builds_and_pushes_see_only_the_given_credentials(
        engine: docker.DockerClient, made: list[str], tmp_path: Path,
        auth_registry: tuple[str, str, str]) -> None:
    address, user, password = auth_registry
    base = f"{address}/team/base-{uuid.uuid4().hex[:8]}:latest"
    with registry_config({address: (user, password)}) as config:
        env = cli_environment(environ_without_docker_config(), docker_config=config)
        subprocess.run([DOCKER_CLI, "tag", BASE_IMAGE, base], check=True)
        subprocess.run([DOCKER_CLI, "push", base], env=env, check=True, capture_output=True)
        engine.images.remove(base)  # the build must fetch it with the credentials
        dockerfile = f"FROM {base}\nRUN echo built-with-credentials > /done\n"
        tag = f"{address}/team/app-{uuid.uuid4().hex[:8]}:v1"
        spec = spec_for(tmp_path, dockerfile, tag=tag, docker_config=config,
                        platforms=("linux/amd64",))
        built = build(spec, made)
        list_digest, _ = push_platform_list(built.platform_images, (tag,), docker_config=config,
                                            log=LogCollector(), environ={})
    _, served = registry_get(tag, auth=(user, password))
    assert served == list_digest
    with registry_config({}) as empty:
        with pytest.raises(ImageBuildError) as caught:
            build(spec_for(tmp_path, dockerfile, tag=tag, docker_config=empty,
                           platforms=("linux/amd64",)), made)
        assert caught.value.user_message.startswith(f"linux/amd64: base image {base} ")
        with pytest.raises(PushError, match="^pushing the linux/amd64 image"):
            push_platform_list(built.platform_images, (tag,), docker_config=empty,
                               log=LogCollector(), environ={})
