"""The benchmark suite's plumbing, against a stub scenario: interleaved runs, ratios, targets,
and the results files (no timing is asserted: speed is measured only by `scripts/bench`)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.__main__ import SCENARIOS, run_suite
from benchmarks.stack import web_command
from benchmarks.suite import Context, Outcome, Row, Target, alternate


def test_alternate_warms_up_then_runs_a_b_a_b() -> None:
    calls: list[str] = []

    def variant(name: str, value: int) -> object:
        return lambda: calls.append(name) or value

    runs = alternate({"a": variant("a", 1), "b": variant("b", 2)}, repetitions=2, warmup=1)

    assert calls == ["a", "b", "a", "b", "a", "b"]
    assert runs == {"a": [1, 1], "b": [2, 2]}


def stub(ctx: Context) -> Outcome:
    runs = alternate({"ours": lambda: 3.0, "base": lambda: 2.0}, repetitions=ctx.count(5),
                     warmup=0)
    return Outcome(rows=[Row("stub", "time", "s", runs["ours"], "baseline", runs["base"],
                             Target("ratio", "<=", 1.15))],
                   notes={"scratch existed": ctx.scratch.is_dir()})


def broken(ctx: Context) -> Outcome:
    raise RuntimeError("the stack is not there")


def test_one_quick_run_of_a_stub_writes_the_results_and_the_table(tmp_path: Path) -> None:
    results, rows = run_suite({"stub": stub, "broken": broken}, quick=True, out=tmp_path,
                              command="scripts/bench --quick stub")

    (written,) = tmp_path.glob("*-quick.json")
    data = json.loads(written.read_text())
    assert data["rows"] == [row.to_dict() for row in rows]
    (row,) = data["rows"]
    assert (row["samples"], row["baseline_samples"]) == ([3.0], [2.0])
    assert (row["ratio"], row["target"], row["met"]) == (1.5, "ratio <= 1.15", False)
    assert data["scenarios"]["stub"]["notes"] == {"scratch existed": True}
    assert data["scenarios"]["broken"]["error"] == "RuntimeError: the stack is not there"
    table = written.with_suffix(".md").read_text()
    assert "| stub | time | s | 3 | 3 | 3 | baseline | 2 | 1.5 | ratio <= 1.15 | **no** |" in table
    assert "**Failed:** `RuntimeError: the stack is not there`" in table
    assert results["quick"] is True


def test_the_suite_has_the_issues_seven_scenarios_and_runs_the_procfiles_web_command() -> None:
    assert list(SCENARIOS) == ["intake", "push", "history", "burst", "parallel", "pages",
                               "memory"]
    procfile = (Path(__file__).parents[1] / "Procfile").read_text()
    (web,) = [line.removeprefix("web: ") for line in procfile.splitlines()
              if line.startswith("web: ")]

    assert web_command() == web
    assert web_command("benchmarks.bare_app:create_app()") == web.replace(
        "'service:create_app()'", "'benchmarks.bare_app:create_app()'")
