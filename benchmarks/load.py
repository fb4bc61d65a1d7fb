"""The load generator: Debian's `wrk` against 127.0.0.1, bounded in time and in connections,
each request one pre-signed push of a new commit (a Lua script joins the body from the
template and the commit; the signatures were made in Python beforehand)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from benchmarks.hooks import PushTemplate

WRK = "wrk"
MAX_SECONDS = 30
MAX_CONNECTIONS = 64

SCRIPT = r"""
local parts = {%(parts)s}
local ids, sigs, commits, n = {}, {}, {}, 0
local count = 0
function setup(thread)
  thread:set("index", count)
  count = count + 1
end
function init(args)
  local threads, line_no = tonumber(args[2]), 0
  for line in io.lines(args[1]) do
    if line_no %% threads == index then
      local id, sig, commit = line:match("^(%%S+) (%%S+) (%%S+)$")
      table.insert(ids, id); table.insert(sigs, sig); table.insert(commits, commit)
    end
    line_no = line_no + 1
  end
end
function request()
  n = n + 1
  local i = (n - 1) %% #ids + 1
  local c = commits[i]
  local body = parts[1]
  for k = 2, #parts do body = body .. c .. parts[k] end
  return wrk.format("POST", "/hooks/github", {
    ["X-GitHub-Event"] = "push", ["X-GitHub-Delivery"] = ids[i],
    ["X-Hub-Signature-256"] = sigs[i], ["Content-Type"] = "application/json"}, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, ' ..
    '"max_us": %%d, "connect": %%d, "read": %%d, "write": %%d, "status": %%d, ' ..
    '"timeout": %%d}\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass(frozen=True)
class LoadResult:
    """What one load run measured: throughput, latency percentiles (ms) and errors."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def lua_string(text: str) -> str:
    level = "=" * next(n for n in range(1, 20) if f"]{'=' * n}]" not in text)
    return f"[{level}[{text}]{level}]"


def write_script(path: Path, template: PushTemplate) -> Path:
    path.write_text(SCRIPT % {"parts": ", ".join(lua_string(p) for p in template.parts)})
    return path


def run_wrk(port: int, *, script: Path, deliveries: Path, connections: int,
            seconds: float) -> LoadResult:
    """One bounded wrk run (≤ MAX_SECONDS, ≤ MAX_CONNECTIONS) against 127.0.0.1:`port`."""
    if shutil.which(WRK) is None:
        raise RuntimeError("wrk is not installed: run scripts/setup.sh bench")
    if not 0 < seconds <= MAX_SECONDS or not 0 < connections <= MAX_CONNECTIONS:
        raise ValueError("load runs are bounded: at most 30 s and 64 connections")
    threads = min(2, connections)
    done = subprocess.run(
        [WRK, "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
         "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{port}/hooks/github",
         "--", str(deliveries), str(threads)],
        capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK-JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")
    data = json.loads(line.removeprefix("WRK-JSON "))
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return LoadResult(requests=data["requests"], seconds=data["duration_us"] / 1e6,
                      p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000,
                      max_ms=data["max_us"] / 1000, errors=errors)
