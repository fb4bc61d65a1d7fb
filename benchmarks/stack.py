"""The real processes a scenario runs against, each on 127.0.0.1 and stopped by its pid: a
private Redis, a fresh PostgreSQL database, the Procfile's web command, `python -m workers`."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from benchmarks.suite import ROOT

REGISTRY = "127.0.0.1:5000"
APP_SPEC = "'service:create_app()'"


def wait_until(check: Callable[[], bool], *, timeout: float, what: str,
               interval: float = 0.05) -> None:
    """Poll `check` until it holds; SystemExit naming `what` after `timeout` seconds."""
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise RuntimeError(f"{what} did not happen within {timeout:g} s")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def stop(process: subprocess.Popen[bytes], *, grace: float = 30) -> None:
    """SIGTERM the process (its own group: a shell's children too), SIGKILL after `grace`."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


@contextmanager
def started(args: list[str], *, env: dict[str, str], log: Path,
            ready: Callable[[], bool] | None = None, what: str = "process",
            timeout: float = 60) -> Iterator[subprocess.Popen[bytes]]:
    """A process in its own session, its output in `log`; stopped on exit."""
    with open(log, "ab") as out:
        process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if ready is not None:
            def up() -> bool:
                if process.poll() is not None:
                    raise RuntimeError(f"{what} exited with {process.returncode}; see {log}")
                return ready()
            wait_until(up, timeout=timeout, what=f"{what} answering")
        yield process
    finally:
        stop(process)


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A private redis-server (nothing saved); its URL."""
    from redis import Redis

    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"

    def answers() -> bool:
        try:
            return bool(Redis.from_url(url).ping())
        except Exception:  # noqa: BLE001 - not up yet
            return False

    with started(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                  "--appendonly", "no", "--maxmemory-policy", "noeviction", "--dir",
                  str(folder)], env=dict(os.environ), log=folder / "redis.log", ready=answers,
                 what="redis-server"):
        yield url


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new PostgreSQL database on the cluster scripts/postgres.sh starts; dropped after."""
    import psycopg

    base = subprocess.run(["bash", str(ROOT / "scripts" / "postgres.sh")], capture_output=True,
                          text=True, check=True).stdout.strip().splitlines()[-1]
    name = f"autobuild_bench_{uuid.uuid4().hex[:8]}"
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def web_command(app_spec: str = APP_SPEC) -> str:
    """The Procfile's `web:` command, with another WSGI app when given (the baseline)."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            command = line.removeprefix("web:").strip()
            if APP_SPEC not in command:
                raise RuntimeError(f"the Procfile's web line no longer names {APP_SPEC}")
            return command.replace(APP_SPEC, shlex.quote(app_spec.strip("'")))
    raise RuntimeError("the Procfile has no web: line")


@contextmanager
def web_server(env: dict[str, str], folder: Path, *, app_spec: str = APP_SPEC,
               name: str = "web") -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """The production web command (gunicorn as in the Procfile) on a free port; the port and
    the gunicorn master."""
    port = free_port()
    env = dict(env, PORT=str(port), AUTOBUILD_BIND="127.0.0.1",
               PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}")
    with started(["sh", "-c", "exec " + web_command(app_spec)], env=env,
                 log=folder / f"{name}.log", ready=lambda: listening(port),
                 what=name) as process:
        yield port, process


@contextmanager
def web(env: dict[str, str], folder: Path, *, app_spec: str = APP_SPEC,
        name: str = "web") -> Iterator[int]:
    """`web_server`'s port."""
    with web_server(env, folder, app_spec=app_spec, name=name) as (port, _):
        yield port


def children(pid: int) -> list[int]:
    """The process ids whose parent is `pid`."""
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


def rss_mib(pid: int) -> float:
    """The resident set size of process `pid`, MiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@contextmanager
def workers(env: dict[str, str], folder: Path, count: int = 1,
            extra: tuple[str, ...] = ()) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` `python -m workers` processes, as the Procfile starts them."""
    with ExitStack() as stack:
        processes = [stack.enter_context(started(
            [sys.executable, "-m", "workers", *extra], env=env,
            log=folder / f"worker-{n}.log", what="worker")) for n in range(count)]
        yield processes


def service_env(folder: Path, *, redis_url: str, database_url: str,
                rules: Path) -> dict[str, str]:
    """The environment the web and worker processes of a scenario share."""
    return dict(os.environ, REDIS_URL=redis_url, DATABASE_URL=database_url,
                AUTOBUILD_RULES=str(rules), AUTOBUILD_VAR_DIR=str(folder / "var"),
                AUTOBUILD_DB_UPGRADE="auto", AUTOBUILD_BUILD_NETWORK="none",
                AUTOBUILD_SECRET_KEY="bench-" + "k" * 40, PYTHONPATH=str(ROOT))


def prepare_database(env: dict[str, str]) -> None:
    """Bring the scenario's database to the schema head before several processes start."""
    subprocess.run([sys.executable, "-m", "service.cli", "db", "upgrade"], env=env, cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
