"""BuildKit builds through Debian's docker CLI: the ImageBuilder of workers/build_spec.py (I/O).

A build is `DOCKER_BUILDKIT=1 /usr/bin/docker build --progress=plain …` as an argument list in
its own process group; its output reaches `log` line by line as it is printed and is parsed
(workers/buildkit_log.py) so that a failure names the failing step. Every image gets
BUILDKIT_INLINE_CACHE=1, so a pushed image serves as `cache_from` for the next build.

Secrets: a value secret is written to a 0600 file in a private folder (0700, in /dev/shm when
there is one) removed after the build, or by the next build if this process is killed; no secret
is ever on a command line, and secret values are masked in the log and in errors.

Multi-platform: the engine's BuildKit builds one platform per call, so each platform is built with
--platform into its own local reference, manifests.staging_reference(tag, platform), i.e.
`<repo>-autobuild-platforms:<tag>-<os>-<arch>`; manifests.push_platform_list pushes them as one
manifest list. A failing platform fails the build before anything is pushed.

Stopping: stop() (from any thread, e.g. the watchdog) sends SIGTERM to the CLI's process group,
SIGKILL `stop_grace` seconds later if it still runs; the engine then cancels the RUN step and
removes its container, and build() raises BuildStopped (workers/build_spec.py). A stopped builder
refuses to build again: make one per build. A work-horse killed outright takes its CLI along
(docker_cli), with the same effect on the engine.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from core.errors import ImageBuildError
from workers import process_groups
from workers.build_spec import BuildSpec, BuildStopped, BuiltImage, Log, SecretSource
from workers.buildkit_log import ProgressParser
from workers.cgroup_limits import CgroupLimits
from workers.docker_cli import DOCKER_CLI, cli_environment, start, stream
from workers.manifests import staging_reference

STOP_GRACE = 5.0
INLINE_CACHE = ("BUILDKIT_INLINE_CACHE", "1")
MASK = "***"
_MASKED_FILE_BYTES = 4096
PRIVATE_PREFIX = "autobuild-buildkit-"
SHM = "/dev/shm"


def secret_option(secret_id: str, path: Path) -> str:
    """The value of `--secret` for a file: `id=…,src=…`, CSV-quoted as the CLI parses it."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([f"id={secret_id}", f"src={path}"])
    return out.getvalue()


def build_arguments(spec: BuildSpec, *, tag: str, iidfile: Path, secret_files: Mapping[str, Path],
                    platform: str | None = None, docker: str = DOCKER_CLI) -> list[str]:
    """The CLI's argument list for one build of `spec` (one platform) tagged `tag`."""
    args = [docker, "build", "--progress=plain", "--file", str(spec.context_dir / spec.dockerfile),
            "--tag", tag, "--iidfile", str(iidfile), "--network", spec.network]
    if platform is not None:
        args += ["--platform", platform]
    if spec.target:
        args += ["--target", spec.target]
    if spec.pull:
        args.append("--pull")
    if spec.no_cache:
        args.append("--no-cache")
    for key, value in (INLINE_CACHE, *spec.build_args):
        args += ["--build-arg", f"{key}={value}"]
    for key, value in spec.labels:
        args += ["--label", f"{key}={value}"]
    for reference in spec.cache_from:
        args += ["--cache-from", reference]
    for secret in spec.secrets:
        args += ["--secret", secret_option(secret.id, secret_files[secret.id])]
    return [*args, "--", str(spec.context_dir)]


def _pid_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_private_folders(base: Path) -> None:
    """Remove the private folders (secret files) of builds whose process died (killed)."""
    for entry in base.glob(f"{PRIVATE_PREFIX}*-*"):
        pid = entry.name[len(PRIVATE_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _pid_is_alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


@contextmanager
def private_folder(base: Path | None = None) -> Iterator[Path]:
    """A 0700 folder for one build's secret files and image ids, in memory (/dev/shm) where
    there is one, named by this process so that a later build removes it if we are killed."""
    if base is None:
        base = Path(SHM) if os.access(SHM, os.W_OK) else Path(tempfile.gettempdir())
    sweep_private_folders(base)
    folder = Path(tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{os.getpid()}-", dir=base))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_secret_files(secrets: Iterable[SecretSource], folder: Path) -> dict[str, Path]:
    """{secret id: file the CLI reads}: value secrets written to 0600 files in `folder`, file
    secrets checked to exist (the message names the id, never a value)."""
    files: dict[str, Path] = {}
    for number, secret in enumerate(secrets):
        if secret.value is not None:
            path = folder / f"secret-{number}"
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as out:
                out.write(secret.value)
            files[secret.id] = path
        else:
            path = Path(str(secret.file)).absolute()  # the CLI runs in the context folder
            if not path.is_file() or not os.access(path, os.R_OK):
                raise ImageBuildError(f"build secret {secret.id!r}: its file {path} is missing "
                                      "or unreadable on the worker")
            files[secret.id] = path
    return files


def secret_values(secrets: Iterable[SecretSource]) -> list[str]:
    """What to mask: each value secret, small secret files' content, and their longer lines."""
    values: list[str] = []
    for secret in secrets:
        text = secret.value
        if text is None and secret.file is not None:
            try:
                if os.path.getsize(secret.file) <= _MASKED_FILE_BYTES:
                    text = Path(secret.file).read_text("utf-8", "replace")
            except OSError:
                text = None
        if text:
            values.append(text.strip())
            values.extend(line.strip() for line in text.splitlines() if len(line.strip()) >= 8)
    return sorted({v for v in values if len(v) >= 3}, key=len, reverse=True)


class BuildKitBuilder:
    """Builds BuildSpecs with the engine's BuildKit; one instance per build (see stop())."""

    def __init__(self, *, docker: str = DOCKER_CLI, docker_host: str | None = None,
                 environ: Mapping[str, str] | None = None, stop_grace: float = STOP_GRACE,
                 limiter: CgroupLimits | None = None) -> None:
        self.docker = docker
        self.limiter = limiter
        self.docker_host = docker_host
        self.stop_grace = stop_grace
        self.environ = dict(os.environ if environ is None else environ)
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._stopped = False

    def build(self, spec: BuildSpec, *, log: Log) -> BuiltImage:
        """Build `spec`: tagged `spec.tag`, or one local reference per platform."""
        if not (spec.context_dir / spec.dockerfile).is_file():
            raise ImageBuildError(f"Dockerfile not found at {spec.dockerfile!r} in the build "
                                  "context")
        masked = secret_values(spec.secrets)

        def mask(text: str) -> str:
            for value in masked:
                text = text.replace(value, MASK)
            return text

        env = cli_environment(self.environ, docker_host=self.docker_host,
                              docker_config=spec.docker_config)
        with private_folder() as folder, self._limited(spec, log):
            files = write_secret_files(spec.secrets, folder)
            if not spec.platforms:
                args = build_arguments(spec, tag=spec.tag, iidfile=folder / "iid",
                                       secret_files=files, docker=self.docker)
                return BuiltImage(image_id=self._run(args, folder / "iid", spec, env, log, mask))
            built: list[tuple[str, str]] = []
            first = ""
            for number, platform in enumerate(spec.platforms):
                log(f"Building for {platform}\n")
                reference = staging_reference(spec.tag, platform)
                iidfile = folder / f"iid-{number}"
                args = build_arguments(spec, tag=reference, iidfile=iidfile, secret_files=files,
                                       platform=platform, docker=self.docker)
                image_id = self._run(args, iidfile, spec, env, log, mask, platform=platform)
                first = first or image_id
                built.append((platform, reference))
            return BuiltImage(image_id=first, platform_images=tuple(built))

    def _limited(self, spec: BuildSpec, log: Log) -> AbstractContextManager[None]:
        """The spec's limits on the engine's BuildKit cgroup while it builds."""
        if self.limiter is None:
            if spec.limits:
                raise ImageBuildError("this worker cannot apply build limits to BuildKit")
            return nullcontext()
        return self.limiter.applied(spec.limits, log)

    def stop(self) -> bool:
        """End the running build at once (any thread); later builds are refused."""
        with self._lock:
            self._stopped = True
            process = self._process
        if process is None or process.poll() is not None:
            return True
        process_groups.signal_group(process, signal.SIGTERM)
        timer = threading.Timer(self.stop_grace, process_groups.signal_group,
                                (process, signal.SIGKILL))
        timer.daemon = True
        timer.start()
        return True

    def _run(self, args: list[str], iidfile: Path, spec: BuildSpec, env: Mapping[str, str],
             log: Log, mask: Callable[[str], str], *, platform: str | None = None) -> str:
        parser = ProgressParser()

        def on_line(line: str) -> None:
            line = mask(line)
            parser.feed(line)
            log(line)

        with self._lock:
            if self._stopped:
                raise BuildStopped("the build was stopped")
            process = start(args, env=env, cwd=spec.context_dir)
            self._process = process
        try:
            code = stream(process, on_line)
        finally:
            with self._lock:
                self._process = None
        if self._stopped:
            raise BuildStopped("the build was stopped")
        where = f"{platform}: " if platform else ""
        if code != 0:
            raise ImageBuildError(where + mask(parser.error_message(code)))
        try:
            return iidfile.read_text().strip()
        except OSError:
            raise ImageBuildError(f"{where}the build ended without an image id") from None
