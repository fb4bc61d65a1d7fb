"""`python -m benchmarks [scenario …] [--quick]` (or `scripts/bench`): run the benchmark suite
on the real stack and write benchmarks/results/<date>.json and .md (quick runs: var/bench/)."""

from __future__ import annotations

import argparse
import importlib
import logging
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.suite import ROOT, Context, Outcome, Row, scratch_folder

Scenario = Callable[[Context], Outcome]
SCENARIOS = {
    "intake": "benchmarks.intake",
    "push": "benchmarks.push_image",
    "history": "benchmarks.history",
    "burst": "benchmarks.burst",
    "parallel": "benchmarks.parallel",
    "pages": "benchmarks.pages",
    "memory": "benchmarks.memory",
}
"""Every scenario by name, in the order the issue lists them; each module has `run(ctx)`."""


def load_scenario(name: str) -> Scenario:
    return importlib.import_module(SCENARIOS[name]).run  # type: ignore[no-any-return]


def run_suite(scenarios: dict[str, Scenario], *, quick: bool, out: Path,
              command: str) -> tuple[dict[str, Any], list[Row]]:
    """Run each scenario, keep going past one that fails, and rewrite the results after each
    (a run stopped half-way still leaves what it measured)."""
    began = time.monotonic()
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    results: dict[str, Any] = {"date": date, "quick": quick, "command": command,
                               "machine": report.machine(), "scenarios": {}, "rows": [],
                               "seconds": 0.0}
    rows: list[Row] = []
    stem = f"{date}{'-quick' if quick else ''}"
    for name, scenario in scenarios.items():
        print(f"bench: {name} …", flush=True)
        entry: dict[str, Any] = {"load_before": report.load()}
        start = time.monotonic()
        with scratch_folder(name) as folder:
            try:
                outcome = scenario(Context(quick=quick, scratch=folder))
            except Exception as exc:  # noqa: BLE001 - the other scenarios still run
                traceback.print_exc()
                entry["error"] = f"{type(exc).__name__}: {exc}"[:2000]
                kept = keep_logs(folder, ROOT / "var" / "bench" / f"{stem}-{name}-logs")
                entry["logs"] = str(kept.relative_to(ROOT))
                outcome = Outcome()
        entry.update(seconds=time.monotonic() - start, load_after=report.load(),
                     notes=outcome.notes)
        rows += outcome.rows
        results["scenarios"][name] = entry
        results["rows"] = [row.to_dict() for row in rows]
        results["seconds"] = time.monotonic() - began
        report.write_json(out / f"{stem}.json", results)
        (out / f"{stem}.md").write_text(report.markdown(results, rows))
        for line in report.table(outcome.rows)[2:]:
            print("  " + line, flush=True)
    print(f"bench: results in {out / stem}.md", flush=True)
    return results, rows


def keep_logs(folder: Path, dest: Path) -> Path:
    """Copy the processes' logs of a failed scenario out of its scratch folder."""
    dest.mkdir(parents=True, exist_ok=True)
    for log in folder.rglob("*.log"):
        shutil.copy(log, dest / "-".join(log.relative_to(folder).parts))
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("scenarios", nargs="*", metavar="scenario",
                        help=f"any of {', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: one short repetition each, small sizes")
    parser.add_argument("--out", type=Path, help="folder for the results "
                        "(default benchmarks/results, or var/bench/results with --quick)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; use any of {', '.join(SCENARIOS)}")
    logging.basicConfig(level=logging.WARNING)
    names = args.scenarios or list(SCENARIOS)
    out = args.out or (ROOT / "var" / "bench" / "results" if args.quick
                       else ROOT / "benchmarks" / "results")
    command = "scripts/bench " + " ".join([*(["--quick"] if args.quick else []),
                                           *args.scenarios])
    results, _ = run_suite({name: load_scenario(name) for name in names}, quick=args.quick,
                           out=out, command=command.strip())
    failed = [name for name, entry in results["scenarios"].items() if entry.get("error")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
