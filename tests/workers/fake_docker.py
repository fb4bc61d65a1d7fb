"""A stand-in for the docker CLI in unit tests: records how it was called, prints a script.

`FakeDocker(folder)` writes an executable `docker` into `folder`. Each run appends a JSON record
(argv, environment, pid, each --secret file's mode and content) to record.jsonl, prints the lines
of output.txt one at a time, optionally waits for a file `go` to appear after the first line (so a
test can prove lines arrive while the CLI still runs), optionally ignores SIGTERM and sleeps, then
writes the --iidfile and exits with the configured code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SCRIPT = '''#!{python}
import json, os, signal, stat, sys, time
here = os.path.dirname(os.path.abspath(__file__))
conf = json.load(open(os.path.join(here, "conf.json")))
args = sys.argv[1:]
secrets = []
for i, arg in enumerate(args):
    if arg == "--secret":
        src = args[i + 1].split("src=", 1)[1].rstrip('"')
        secrets.append({{"src": src, "mode": stat.S_IMODE(os.stat(src).st_mode),
                        "dir_mode": stat.S_IMODE(os.stat(os.path.dirname(src)).st_mode),
                        "content": open(src).read()}})
with open(os.path.join(here, "record.jsonl"), "a") as out:
    out.write(json.dumps({{"args": args, "env": dict(os.environ), "pid": os.getpid(),
                          "pgid": os.getpgid(0), "sid": os.getsid(0), "secrets": secrets}}) + "\\n")
if conf["ignore_term"]:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
for number, line in enumerate(open(os.path.join(here, "output.txt"))):
    sys.stderr.write(line)
    sys.stderr.flush()
    if number == 0 and conf["wait_for_go"]:
        end = time.monotonic() + 10
        while not os.path.exists(os.path.join(here, "go")):
            if time.monotonic() > end:
                sys.stderr.write("the first line was not read while the CLI ran\\n")
                sys.exit(99)
            time.sleep(0.01)
time.sleep(conf["sleep"])
if "--iidfile" in args and conf["code"] == 0:
    open(args[args.index("--iidfile") + 1], "w").write("sha256:" + "f" * 64)
sys.exit(conf["code"])
'''


class FakeDocker:
    """An executable fake `docker` in `folder`, configured per test."""

    def __init__(self, folder: Path, *, output: str = "", code: int = 0, sleep: float = 0,
                 wait_for_go: bool = False, ignore_term: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.path = folder / "docker"
        self.path.write_text(SCRIPT.format(python=sys.executable))
        self.path.chmod(0o755)
        (folder / "output.txt").write_text(output)
        (folder / "conf.json").write_text(json.dumps({
            "code": code, "sleep": sleep, "wait_for_go": wait_for_go,
            "ignore_term": ignore_term}))

    def go(self) -> None:
        """Let a fake waiting after its first line go on."""
        (self.folder / "go").touch()

    def calls(self) -> list[dict[str, Any]]:
        """One record per run, oldest first."""
        path = self.folder / "record.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]
