"""The suite's results: the machine and its load, a JSON file and a Markdown table."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.suite import Row


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    model = next((line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo")
                  if line.startswith("model name")), platform.processor())
    memory = next((line.split()[1] for line in _lines("/proc/meminfo")
                   if line.startswith("MemTotal")), "0")
    return {"cpus": os.cpu_count(), "cpu": model, "memory_gib": round(int(memory) / 2**20, 1),
            "system": platform.platform(), "python": platform.python_version()}


def load() -> dict[str, Any]:
    """The load average now, and the busiest processes that are not the suite's."""
    ours = {os.getpid()}
    ps = subprocess.run(["ps", "-eo", "pid,ppid,pcpu,comm", "--sort=-pcpu", "--no-headers"],
                        capture_output=True, text=True, check=False).stdout.splitlines()
    busy = []
    for line in ps:
        pid, ppid, cpu, command = line.split(None, 3)
        if int(pid) in ours or int(ppid) in ours:
            continue
        if float(cpu) >= 5.0:
            busy.append(f"{command} {cpu}%")
    return {"loadavg": list(os.getloadavg()), "busy_processes": busy[:5]}


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def write_json(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=str) + "\n")


def number(value: float | None) -> str:
    """A value the way the table shows it: 3 significant digits, no exponent."""
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def met_word(met: bool | None) -> str:
    return {True: "**yes**", False: "**no**", None: ""}[met]


def table(rows: list[Row]) -> list[str]:
    """The Markdown table of every row."""
    lines = ["| scenario | measure | unit | median | min | max | baseline | baseline median "
             "| ratio | target | met? |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        base = row.baseline_samples
        base_median = sorted(base)[len(base) // 2] if base else None
        lines.append(
            f"| {row.scenario} | {row.measure} | {row.unit} | {number(row.median)} "
            f"| {number(row.minimum)} | {number(row.maximum)} | {row.baseline or ''} "
            f"| {number(base_median) if base else ''} | {number(row.ratio)} "
            f"| {row.target or ''} | {met_word(row.met)} |")
    return lines


def markdown(results: dict[str, Any], rows: list[Row]) -> str:
    """The results page the README links to."""
    info = results["machine"]
    out = [f"# Benchmark results {results['date']}{' (quick)' if results['quick'] else ''}",
           "",
           f"Machine: {info['cpus']} × {info['cpu']}, {info['memory_gib']} GiB, "
           f"{info['system']}, Python {info['python']}. Command: `{results['command']}`; "
           f"{results['seconds']:.0f} s in all.",
           "",
           "Each ratio is the median of the measure over the median of its baseline, run "
           "interleaved in the same scenario (A B A B …); medians over the repetitions. "
           "The machine was shared: its load during each scenario is listed below.", ""]
    out += table(rows)
    for name, scenario in results["scenarios"].items():
        out += ["", f"## {name}", "",
                f"{scenario['seconds']:.0f} s; load average before "
                f"{_loads(scenario['load_before'])}, after {_loads(scenario['load_after'])}."]
        busy = scenario["load_before"].get("busy_processes")
        if busy:
            out.append(f"Other busy processes at the start: {', '.join(busy)}.")
        if scenario.get("error"):
            out += ["", f"**Failed:** `{scenario['error']}`"]
        for key, value in scenario.get("notes", {}).items():
            out += ["", f"**{key}**", ""]
            out += _note(value)
    return "\n".join(out) + "\n"


def _loads(entry: dict[str, Any]) -> str:
    return " / ".join(f"{x:.2f}" for x in entry["loadavg"])


def _note(value: Any) -> list[str]:
    if isinstance(value, str):
        return ["```", value.rstrip(), "```"] if "\n" in value else [value]
    if isinstance(value, dict):
        return [f"- {key}: {_inline(item)}" for key, item in value.items()]
    if isinstance(value, list):
        return [f"- {_inline(item)}" for item in value]
    return [_inline(value)]


def _inline(value: Any) -> str:
    if isinstance(value, float):
        return number(value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_inline(v)}" for k, v in value.items())
    return str(value)
