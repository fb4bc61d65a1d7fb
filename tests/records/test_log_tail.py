"""The build page's log tail: read from the newest chunks back, cut to the limit, said so."""

from __future__ import annotations

from records.builds import BuildStore
from tests.factories import make_plan


def test_the_tail_is_the_end_of_the_log_and_says_when_it_left_something_out(
        store: BuildStore) -> None:
    (build,) = store.create_builds([make_plan()])
    for line in ("first\n", "second\n", "third\n"):
        store.append_log(build.id, line)

    assert store.log_tail(build.id, 100) == ("first\nsecond\nthird\n", 3, False)
    assert store.log_tail(build.id, 9) == ("nd\nthird\n", 3, True)
    assert store.log_tail(build.id, 6) == ("third\n", 3, True)


def test_a_build_without_a_log_has_an_empty_tail(store: BuildStore) -> None:
    (build,) = store.create_builds([make_plan()])

    assert store.log_tail(build.id, 100) == ("", 0, False)
