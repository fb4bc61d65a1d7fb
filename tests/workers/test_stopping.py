"""Stopping a build: its builder first; the work-horse when that cannot be, or takes too long."""

from __future__ import annotations

import threading

import pytest

from tests.fakes import FakeBuilder
from tests.waiting import wait_until
from workers.build_spec import BuildStopped
from workers.stopping import BuildStopper


class Kills:
    """A recording stand-in for ending the work-horse."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def test_a_running_builder_is_stopped_and_the_work_horse_ended_only_if_it_lingers() -> None:
    kills, builder = Kills(), FakeBuilder([])
    stopper = BuildStopper(kill=kills, grace=0.05)
    with stopper.building(builder):
        stopper()
        assert builder.stops == 1 and kills.count == 0
        wait_until(lambda: kills.count, 5, "the fallback ending the work-horse")


def test_a_build_that_ends_in_time_cancels_the_fallback() -> None:
    kills, builder = Kills(), FakeBuilder([])
    stopper = BuildStopper(kill=kills, grace=0.05)
    with stopper.building(builder):
        stopper()
    stopper.close()
    for timer in [t for t in threading.enumerate() if isinstance(t, threading.Timer)]:
        timer.join(5)  # a cancelled fallback ends at once, a live one only after firing
    assert kills.count == 0 and stopper.requested


@pytest.mark.parametrize("builder", [None, FakeBuilder([], can_stop=False)],
                         ids=["nothing-building", "builder-cannot-stop"])
def test_otherwise_the_work_horse_is_ended_at_once(builder: FakeBuilder | None) -> None:
    kills = Kills()
    stopper = BuildStopper(kill=kills)
    if builder is None:
        stopper()
    else:
        with stopper.building(builder):
            stopper()
    assert kills.count == 1


def test_once_stopped_no_phase_goes_on() -> None:
    stopper = BuildStopper(kill=Kills())
    stopper.check()
    stopper()
    with pytest.raises(BuildStopped):
        stopper.check()
    with pytest.raises(BuildStopped), stopper.building(FakeBuilder([])):
        pytest.fail("a stopped build started its builder")
