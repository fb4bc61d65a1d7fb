"""The benchmark suite's plumbing: rows of measurements against a baseline, targets, and the
interleaved (A B A B) runs that make ratios trustworthy on a machine whose speed drifts."""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda value, limit: value < limit,
    "<=": lambda value, limit: value <= limit,
    ">=": lambda value, limit: value >= limit,
    "==": lambda value, limit: value == limit,
}


@dataclass(frozen=True)
class Target:
    """What a row must reach: its `of` ("ratio", "median", "max" or "min") `op` `limit`."""

    of: str
    op: str
    limit: float

    def met(self, row: Row) -> bool | None:
        """Whether the row reaches the target (None when it has no value to compare)."""
        value = {"ratio": row.ratio, "median": row.median, "max": row.maximum,
                 "min": row.minimum}[self.of]
        return None if value is None else OPERATORS[self.op](value, self.limit)

    def __str__(self) -> str:
        return f"{self.of} {self.op} {self.limit:g}"


@dataclass
class Row:
    """One measure of a scenario: its samples and, when it has one, its baseline's."""

    scenario: str
    measure: str
    unit: str
    samples: list[float]
    baseline: str | None = None
    baseline_samples: list[float] | None = None
    target: Target | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def minimum(self) -> float | None:
        return min(self.samples) if self.samples else None

    @property
    def maximum(self) -> float | None:
        return max(self.samples) if self.samples else None

    @property
    def ratio(self) -> float | None:
        """The median over the baseline's median."""
        if not self.samples or not self.baseline_samples:
            return None
        base = statistics.median(self.baseline_samples)
        return statistics.median(self.samples) / base if base else None

    @property
    def met(self) -> bool | None:
        return self.target.met(self) if self.target else None

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "measure": self.measure, "unit": self.unit,
                "median": self.median, "min": self.minimum, "max": self.maximum,
                "samples": self.samples, "baseline": self.baseline,
                "baseline_samples": self.baseline_samples, "ratio": self.ratio,
                "target": str(self.target) if self.target else None, "met": self.met}


@dataclass
class Outcome:
    """What one scenario found: its rows, and notes (breakdowns, profiles, counts)."""

    rows: list[Row] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """How a scenario runs: `quick` for a smoke run, and a scratch folder it may fill."""

    quick: bool
    scratch: Path

    def count(self, full: int, quick: int = 1) -> int:
        """`full` normally, `quick` in a smoke run (repetitions, sizes)."""
        return quick if self.quick else full


def alternate(variants: dict[str, Callable[[], T]], *, repetitions: int,
              warmup: int = 1) -> dict[str, list[T]]:
    """Run every variant `warmup` times (not kept), then A B A B … `repetitions` times."""
    for _ in range(warmup):
        for run in variants.values():
            run()
    kept: dict[str, list[T]] = {name: [] for name in variants}
    for _ in range(repetitions):
        for name, run in variants.items():
            kept[name].append(run())
    return kept


@contextmanager
def scratch_folder(name: str) -> Iterator[Path]:
    """A temporary folder under var/bench for one scenario, removed afterwards."""
    base = ROOT / "var" / "bench"
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{name}-", dir=base) as folder:
        yield Path(folder)
