"""Polling with a deadline: the one way tests wait for something to happen."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, what: str, *,
               interval: float = 0.1, describe: Callable[[], str] | None = None) -> T:
    """The first truthy value of `predicate`, polled every `interval` s; fail after `timeout`.

    `what` names what was awaited; `describe` adds the state seen last to the failure.
    """
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= end:
            seen = f"; last seen: {describe()}" if describe is not None else ""
            pytest.fail(f"{what} did not happen within {timeout:g} s{seen}")
        time.sleep(interval)
