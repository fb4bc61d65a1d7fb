"""Fast checks of the BuildKit builder without an engine: argument lists, progress parsing,
error messages, secrets and stopping, against a fake docker CLI (tests/workers/fake_docker.py)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from core.errors import ImageBuildError, PushError
from tests.workers.fake_docker import FakeDocker
from workers.build_spec import BuildSpec, BuildStopped, SecretSource
from workers.buildkit import (
    PRIVATE_PREFIX,
    BuildKitBuilder,
    build_arguments,
    private_folder,
    secret_option,
    secret_values,
    write_secret_files,
)
from workers.buildkit_log import ProgressParser, describe, shorten
from workers.docker_cli import cli_environment, registry_config, write_registry_config
from workers.manifests import (
    is_insecure_registry,
    push_platform_list,
    registry_host,
    split_reference,
    staging_reference,
)

SAMPLES = Path(__file__).parent / "buildkit_samples"
SECRET_VALUE = "s3cr3t-value-7f1e9a"  # noqa: S105 - a test's secret


def spec(tmp_path: Path, **changes: object) -> BuildSpec:
    """A spec over a context folder with a Dockerfile."""
    (tmp_path / "ctx").mkdir(exist_ok=True)
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    fields: dict[str, object] = {"context_dir": tmp_path / "ctx", "dockerfile": "Dockerfile",
                                 "tag": "127.0.0.1:5000/acme/app:v1"}
    fields.update(changes)
    return BuildSpec(**fields)  # type: ignore[arg-type]


# --- the argument list ------------------------------------------------------------------------

def test_arguments_carry_every_option_in_order(tmp_path: Path) -> None:
    given = spec(tmp_path, build_args=(("A", "1"), ("B", "two words")), target="final",
                 labels=(("org.example", "x=y"),), pull=True, no_cache=True,
                 cache_from=("127.0.0.1:5000/acme/app:v0",), network="none",
                 secrets=(SecretSource("tok", value="v"),))
    args = build_arguments(given, tag=given.tag, iidfile=Path("/p/iid"),
                           secret_files={"tok": Path("/p/secret-0")}, platform="linux/arm64")
    ctx = str(tmp_path / "ctx")
    assert args == [
        "/usr/bin/docker", "build", "--progress=plain", "--file", f"{ctx}/Dockerfile",
        "--tag", "127.0.0.1:5000/acme/app:v1", "--iidfile", "/p/iid", "--network", "none",
        "--platform", "linux/arm64", "--target", "final", "--pull", "--no-cache",
        "--build-arg", "BUILDKIT_INLINE_CACHE=1", "--build-arg", "A=1",
        "--build-arg", "B=two words", "--label", "org.example=x=y",
        "--cache-from", "127.0.0.1:5000/acme/app:v0", "--secret", "id=tok,src=/p/secret-0",
        "--", ctx]


def test_minimal_arguments_use_the_default_network_and_engine_platform(tmp_path: Path) -> None:
    given = spec(tmp_path)
    args = build_arguments(given, tag=given.tag, iidfile=Path("/p/iid"), secret_files={})
    assert "--platform" not in args and "--pull" not in args and "--target" not in args
    assert args[args.index("--network") + 1] == "default"
    assert args[-2:] == ["--", str(tmp_path / "ctx")]


def test_secret_option_is_csv_quoted_like_the_cli_reads_it() -> None:
    assert secret_option("tok", Path("/a/b")) == "id=tok,src=/a/b"
    assert secret_option("tok", Path("/a,b/c")) == 'id=tok,"src=/a,b/c"'


@pytest.mark.parametrize("changes", [
    pytest.param({"network": "bridge"}, id="network"),
    pytest.param({"tag": ""}, id="empty-tag"),
    pytest.param({"dockerfile": "/etc/Dockerfile"}, id="absolute-dockerfile"),
    pytest.param({"platforms": ("arm64",)}, id="platform-without-os"),
    pytest.param({"platforms": ("linux/amd64", "linux/amd64")}, id="platform-twice"),
    pytest.param({"secrets": (SecretSource("a", value="1"), SecretSource("a", value="2"))},
                 id="secret-twice"),
])
def test_invalid_specs_are_refused(tmp_path: Path, changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        spec(tmp_path, **changes)


@pytest.mark.parametrize(("kwargs"), [
    pytest.param({"id": "tok"}, id="neither"),
    pytest.param({"id": "tok", "value": "v", "file": "/f"}, id="both"),
    pytest.param({"id": "bad id", "value": "v"}, id="bad-id"),
])
def test_a_secret_needs_one_source_and_a_plain_id(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        SecretSource(**kwargs)


def test_a_secret_value_is_not_in_its_repr() -> None:
    assert SECRET_VALUE not in repr(SecretSource("tok", value=SECRET_VALUE))


# --- progress parsing -------------------------------------------------------------------------

@pytest.mark.parametrize(("sample", "message"), [
    pytest.param("run_fails", '[3/3] RUN echo "about to fail" && exit 3: executor failed '
                 'running [/bin/sh -c echo "about to fail" && exit 3]: exit code: 3', id="run"),
    pytest.param("newer_buildkit_run_fails", '[2/3] RUN false: process "/bin/sh -c false" did '
                 "not complete successfully: exit code: 1", id="run-newer-buildkit"),
    pytest.param("base_not_in_registry",
                 "base image 127.0.0.1:5000/nope/nope:latest not found in its registry",
                 id="base-not-in-registry"),
    pytest.param("base_not_local", "base image docker.io/local/not-there:latest is not on this "
                 "engine and could not be pulled: dial tcp: lookup registry-1.docker.io on "
                 "10.255.255.53:53: no such host", id="base-not-local"),
    pytest.param("copy_missing", "[2/2] COPY missing.txt /x: missing.txt is not in the build "
                 "context (or .dockerignore excludes it)", id="copy"),
    pytest.param("run_fails_no_cache_yet", '[4/4] RUN echo "fatal" && exit 3: executor failed '
                 'running [/bin/sh -c echo "fatal" && exit 3]: exit code: 3',
                 id="run-cache-image-not-pushed-yet"),
    pytest.param("copy_missing_no_cache_yet", "[2/2] COPY nothere /x: nothere is not in the "
                 "build context (or .dockerignore excludes it)",
                 id="copy-cache-image-not-pushed-yet"),
    pytest.param("multistage_copy_from", "[stage-1 2/2] COPY --from=builder /nope /nope: /nope "
                 "is not in builder", id="copy-from-stage"),
    pytest.param("syntax_frontend", "the Dockerfile's # syntax= line needs the frontend image "
                 "docker/dockerfile:1, which could not be pulled: dial tcp: lookup "
                 "registry-1.docker.io on 10.255.255.53:53: no such host", id="syntax"),
    pytest.param("parse_error", "dockerfile parse error line 2: unknown instruction: FOO",
                 id="parse-error"),
    pytest.param("no_dockerfile", "Dockerfile not found in the build context", id="no-dockerfile"),
    pytest.param("target_missing", "target stage nosuch could not be found", id="target"),
])
def test_real_failures_give_one_short_line_naming_the_step(sample: str, message: str) -> None:
    parser = ProgressParser()
    for line in (SAMPLES / f"{sample}.txt").read_text().splitlines(keepends=True):
        parser.feed(line)
    assert parser.error_message(1) == message
    assert "\n" not in message and len(message) <= 300


def test_step_names_are_the_first_line_of_each_number() -> None:
    parser = ProgressParser()
    for line in ["#4 [2/2] RUN echo done", "#4 sha256:" + "0" * 64, "#4 0.05 done",
                 "#4 ERROR: executor failed running [/bin/sh -c echo done]: exit code: 1"]:
        parser.feed(line)
    assert parser.step_name() == "[2/2] RUN echo done"


def test_a_cancelled_sibling_is_not_the_cause() -> None:
    parser = ProgressParser()
    for line in ["#5 [a 2/2] RUN sleep 5", "#6 [b 2/2] RUN false", "#5 ERROR: context canceled",
                 "#6 ERROR: executor failed running [/bin/sh -c false]: exit code: 1"]:
        parser.feed(line)
    assert parser.error_message(1).startswith("[b 2/2] RUN false: executor failed")


def test_no_output_still_gives_a_message() -> None:
    assert ProgressParser().error_message(125) == (
        "docker build exited with code 125 and printed no error")


def test_long_messages_are_cut() -> None:
    message = describe("[1/2] RUN " + "x" * 400, "y" * 400)
    assert len(shorten(message)) == 300 and shorten(message).endswith("…")


# --- secrets ----------------------------------------------------------------------------------

def test_value_secrets_go_to_private_0600_files(tmp_path: Path) -> None:
    folder = tmp_path / "private"
    folder.mkdir(mode=0o700)
    files = write_secret_files([SecretSource("tok", value=SECRET_VALUE)], folder)
    assert files["tok"].read_text() == SECRET_VALUE
    assert stat.S_IMODE(files["tok"].stat().st_mode) == 0o600


def test_a_missing_secret_file_names_the_id_not_a_value(tmp_path: Path) -> None:
    with pytest.raises(ImageBuildError) as caught:
        write_secret_files([SecretSource("npmrc", file=str(tmp_path / "nope"))], tmp_path)
    assert "'npmrc'" in caught.value.user_message


def test_private_folders_of_dead_processes_are_swept(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"{PRIVATE_PREFIX}{dead.pid}-abc"
    mine = tmp_path / f"{PRIVATE_PREFIX}{os.getpid()}-abc"
    unrelated = tmp_path / "autobuild-other-1-abc"
    for folder in (stale, mine, unrelated):
        folder.mkdir()
    with private_folder(tmp_path) as folder:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert folder.name.startswith(f"{PRIVATE_PREFIX}{os.getpid()}-")
        assert not stale.exists() and mine.exists() and unrelated.exists()
    assert not folder.exists()


def test_secret_values_include_small_files_and_their_lines(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("-----BEGIN KEY-----\nAAAABBBBCCCCDDDD\n-----END KEY-----\n")
    values = secret_values([SecretSource("key", file=str(key)), SecretSource("t", value="ab")])
    assert "AAAABBBBCCCCDDDD" in values and key.read_text().strip() in values
    assert "ab" not in values  # too short to mask without wrecking the log


# --- running the CLI (a fake one) -------------------------------------------------------------

def test_build_streams_lines_while_the_cli_runs(tmp_path: Path) -> None:
    fake = FakeDocker(tmp_path / "bin", output="#1 first\n#1 DONE 0.0s\n", wait_for_go=True)
    seen: list[str] = []

    def log(text: str) -> None:
        seen.append(text)
        fake.go()

    built = BuildKitBuilder(docker=str(fake.path), environ={}).build(spec(tmp_path), log=log)
    assert built.image_id == "sha256:" + "f" * 64 and built.platform_images == ()
    assert seen == ["#1 first\n", "#1 DONE 0.0s\n"]


def test_the_cli_gets_its_own_session_and_a_minimal_environment(tmp_path: Path) -> None:
    fake = FakeDocker(tmp_path / "bin")
    environ = {"PATH": "/usr/bin:/bin", "HOME": "/root", "AUTOBUILD_API_TOKEN": "x",
               "DOCKER_HOST": "unix:///worker.sock"}
    builder = BuildKitBuilder(docker=str(fake.path), environ=environ)
    builder.build(spec(tmp_path, docker_config="/cfg"), log=lambda _t: None)
    call = fake.calls()[0]
    assert call["sid"] == call["pid"] and call["pgid"] == call["pid"]
    assert call["env"]["DOCKER_BUILDKIT"] == "1" and call["env"]["DOCKER_CONFIG"] == "/cfg"
    assert call["env"]["DOCKER_HOST"] == "unix:///worker.sock"
    assert "AUTOBUILD_API_TOKEN" not in call["env"]
    other = BuildKitBuilder(docker=str(fake.path), environ=environ, docker_host="tcp://h:1")
    other.build(spec(tmp_path), log=lambda _t: None)
    assert fake.calls()[1]["env"]["DOCKER_HOST"] == "tcp://h:1"


def test_a_value_secret_is_a_file_never_an_argument_and_is_masked(tmp_path: Path) -> None:
    fake = FakeDocker(tmp_path / "bin", code=1, output=(
        f"#5 [2/2] RUN cat /run/secrets/tok\n#5 0.1 {SECRET_VALUE}\n"
        f"#5 ERROR: executor failed running [/bin/sh -c echo {SECRET_VALUE}]: exit code: 1\n"))
    logged: list[str] = []
    given = spec(tmp_path, secrets=(SecretSource("tok", value=SECRET_VALUE),))
    with pytest.raises(ImageBuildError) as caught:
        BuildKitBuilder(docker=str(fake.path), environ={}).build(given, log=logged.append)
    call = fake.calls()[0]
    assert SECRET_VALUE not in json.dumps(call["args"]) + json.dumps(call["env"])
    assert call["secrets"][0]["content"] == SECRET_VALUE
    assert call["secrets"][0]["mode"] == 0o600 and call["secrets"][0]["dir_mode"] == 0o700
    assert not os.path.exists(call["secrets"][0]["src"])  # removed after the build
    assert SECRET_VALUE not in "".join(logged) + caught.value.user_message
    assert caught.value.user_message == (
        "[2/2] RUN cat /run/secrets/tok: executor failed running [/bin/sh -c echo ***]: "
        "exit code: 1")


def test_each_platform_is_built_into_its_own_staging_reference(tmp_path: Path) -> None:
    fake = FakeDocker(tmp_path / "bin")
    given = spec(tmp_path, platforms=("linux/amd64", "linux/arm64"))
    built = BuildKitBuilder(docker=str(fake.path), environ={}).build(given, log=lambda _t: None)
    expected = (("linux/amd64", "127.0.0.1:5000/acme/app-autobuild-platforms:v1-linux-amd64"),
                ("linux/arm64", "127.0.0.1:5000/acme/app-autobuild-platforms:v1-linux-arm64"))
    assert built.platform_images == expected
    for call, (platform, reference) in zip(fake.calls(), expected, strict=True):
        args = call["args"]
        assert args[args.index("--platform") + 1] == platform
        assert args[args.index("--tag") + 1] == reference


def test_a_failing_platform_names_it_and_stops_the_build(tmp_path: Path) -> None:
    fake = FakeDocker(tmp_path / "bin", code=1, output="#1 [1/1] RUN x\n#1 ERROR: boom\n")
    given = spec(tmp_path, platforms=("linux/arm64", "linux/amd64"))
    with pytest.raises(ImageBuildError, match=r"^linux/arm64: \[1/1\] RUN x: boom$"):
        BuildKitBuilder(docker=str(fake.path), environ={}).build(given, log=lambda _t: None)
    assert len(fake.calls()) == 1


def test_a_missing_dockerfile_fails_before_the_cli_runs(tmp_path: Path) -> None:
    fake = FakeDocker(tmp_path / "bin")
    with pytest.raises(ImageBuildError, match="Dockerfile not found at 'docker/Dockerfile'"):
        BuildKitBuilder(docker=str(fake.path), environ={}).build(
            spec(tmp_path, dockerfile="docker/Dockerfile"), log=lambda _t: None)
    assert fake.calls() == []


@pytest.mark.parametrize("ignore_term", [pytest.param(False, id="sigterm"),
                                         pytest.param(True, id="sigkill-after-grace")])
def test_stop_ends_the_cli_group_and_refuses_later_builds(tmp_path: Path,
                                                          ignore_term: bool) -> None:
    fake = FakeDocker(tmp_path / "bin", output="#1 [1/1] RUN sleep\n", sleep=60,
                      ignore_term=ignore_term)
    builder = BuildKitBuilder(docker=str(fake.path), environ={}, stop_grace=0.5)
    started = threading.Event()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            builder.build(spec(tmp_path), log=lambda _t: started.set())
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(10)
    builder.stop()
    thread.join(20)
    assert not thread.is_alive() and isinstance(outcome[0], BuildStopped)
    pid = fake.calls()[0]["pid"]
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists()
    with pytest.raises(BuildStopped):
        builder.build(spec(tmp_path), log=lambda _t: None)
    assert len(fake.calls()) == 1


# --- environment, credentials, manifest lists -------------------------------------------------

def test_cli_environment_keeps_only_what_the_cli_needs() -> None:
    env = cli_environment({"HOME": "/h", "SECRET_TOKEN": "x", "DOCKER_CONFIG": "/w"},
                          docker_config="/build")
    assert env == {"HOME": "/h", "DOCKER_CONFIG": "/build", "DOCKER_BUILDKIT": "1",
                   "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def test_registry_config_holds_only_the_given_auths_and_is_removed(tmp_path: Path) -> None:
    with registry_config({"127.0.0.1:5001": ("u", "p4ss"), "docker.io": ("d", "h")}) as folder:
        path = Path(folder) / "config.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(Path(folder).stat().st_mode) == 0o700
        assert json.loads(path.read_text()) == {"auths": {
            "127.0.0.1:5001": {"auth": "dTpwNHNz"},
            "https://index.docker.io/v1/": {"auth": "ZDpo"}}}
    assert not Path(folder).exists()
    assert write_registry_config(tmp_path, {}).read_text() == '{"auths": {}}'


@pytest.mark.parametrize(("tag", "platform", "reference"), [
    pytest.param("127.0.0.1:5000/acme/app:v1", "linux/arm64",
                 "127.0.0.1:5000/acme/app-autobuild-platforms:v1-linux-arm64", id="port"),
    pytest.param("acme/app", "linux/arm/v7", "acme/app-autobuild-platforms:latest-linux-arm-v7",
                 id="hub-no-tag"),
    pytest.param("r.io/a:" + "t" * 128, "linux/amd64",
                 "r.io/a-autobuild-platforms:" + "t" * 116 + "-linux-amd64", id="long-tag"),
])
def test_staging_references(tag: str, platform: str, reference: str) -> None:
    assert staging_reference(tag, platform) == reference
    assert len(split_reference(reference)[1]) <= 128


@pytest.mark.parametrize(("repository", "host", "insecure"), [
    pytest.param("127.0.0.1:5000/acme/app", "127.0.0.1:5000", True, id="loopback"),
    pytest.param("localhost:5000/app", "localhost:5000", True, id="localhost"),
    pytest.param("[::1]:5000/app", "[::1]:5000", True, id="ipv6-loopback"),
    pytest.param("registry.example.com/app", "registry.example.com", False, id="remote"),
    pytest.param("10.0.0.1:5000/app", "10.0.0.1:5000", False, id="private-address"),
    pytest.param("acme/app", "docker.io", False, id="hub"),
])
def test_only_loopback_registries_are_insecure(repository: str, host: str,
                                               insecure: bool) -> None:
    assert registry_host(repository) == host
    assert is_insecure_registry(host) is insecure


def test_a_manifest_list_needs_one_registry(tmp_path: Path) -> None:
    fake = FakeDocker(tmp_path / "bin")
    with pytest.raises(PushError, match="several registries"):
        push_platform_list((("linux/amd64", "127.0.0.1:5000/a-autobuild-platforms:x"),),
                           ("registry.example.com/a:x",), docker_config=None,
                           log=lambda _t: None, docker=str(fake.path), environ={})
    assert fake.calls() == []


def test_a_failed_platform_push_names_the_platform(tmp_path: Path) -> None:
    fake = FakeDocker(tmp_path / "bin", code=1, output="denied: requested access is denied\n")
    with pytest.raises(PushError) as caught:
        push_platform_list((("linux/arm64", "127.0.0.1:5000/a-autobuild-platforms:x-arm64"),),
                           ("127.0.0.1:5000/a:x",), docker_config=None, log=lambda _t: None,
                           docker=str(fake.path), environ={})
    assert caught.value.user_message == (
        "pushing the linux/arm64 image 127.0.0.1:5000/a-autobuild-platforms:x-arm64 failed: "
        "denied: requested access is denied")
