"""The retry policy: which answers are retried, how long to wait, when to give up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.notify.retry import (
    MAX_ATTEMPTS,
    MAX_DELAY,
    Verdict,
    backoff,
    decide,
    parse_retry_after,
)

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def verdict(status: int | None, *, attempts: int = 1, retry_after: str | None = None,
            error: str | None = None) -> tuple[Verdict, float]:
    found = decide(status=status, error=error, retry_after=retry_after, attempts=attempts,
                   now=NOW, base=10.0, jitter=lambda: 0.5)
    return found.verdict, found.delay


@pytest.mark.parametrize(("status", "expected"), [
    pytest.param(200, Verdict.SENT, id="200"), pytest.param(201, Verdict.SENT, id="201"),
    pytest.param(204, Verdict.SENT, id="204"), pytest.param(500, Verdict.RETRY, id="500"),
    pytest.param(502, Verdict.RETRY, id="502"), pytest.param(503, Verdict.RETRY, id="503"),
    pytest.param(429, Verdict.RETRY, id="429"), pytest.param(None, Verdict.RETRY, id="no-answer"),
    pytest.param(400, Verdict.FAILED, id="400"), pytest.param(401, Verdict.FAILED, id="401"),
    pytest.param(404, Verdict.FAILED, id="404"), pytest.param(422, Verdict.FAILED, id="422"),
    pytest.param(301, Verdict.FAILED, id="redirect-not-followed"),
])
def test_which_answers_are_retried(status: int | None, expected: Verdict) -> None:
    assert verdict(status, error="connection reset")[0] is expected


def test_backoff_grows_three_times_with_jitter_and_is_capped() -> None:
    assert [backoff(n, base=10, jitter=lambda: 0.5) for n in (1, 2, 3, 4)] == [10, 30, 90, 270]
    assert backoff(1, base=10, jitter=lambda: 0.0) == 5.0
    assert backoff(1, base=10, jitter=lambda: 0.999) == pytest.approx(14.99)
    assert backoff(20, base=10, jitter=lambda: 0.5) == MAX_DELAY


def test_gives_up_after_the_last_attempt_keeping_the_reason() -> None:
    last = decide(status=503, error=None, retry_after=None, attempts=MAX_ATTEMPTS, now=NOW,
                  base=10, jitter=lambda: 0.5)

    assert last.verdict is Verdict.FAILED
    assert last.reason == f"gave up after {MAX_ATTEMPTS} attempts (HTTP 503)"
    assert verdict(503, attempts=MAX_ATTEMPTS - 1)[0] is Verdict.RETRY


@pytest.mark.parametrize(("header", "seconds"), [
    pytest.param("7", 7.0, id="delta-seconds"),
    pytest.param("Sat, 01 Mar 2025 12:00:30 GMT", 30.0, id="http-date"),
    pytest.param("Sat, 01 Mar 2025 11:00:00 GMT", 0.0, id="date-in-the-past"),
    pytest.param("soon", None, id="unreadable"),
    pytest.param("", None, id="empty"),
    pytest.param(None, None, id="absent"),
])
def test_retry_after_seconds_or_http_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


def test_429_waits_what_retry_after_asks_bounded_to_an_hour() -> None:
    assert verdict(429, retry_after="7") == (Verdict.RETRY, 7.0)
    assert verdict(429, retry_after="Sat, 01 Mar 2025 12:00:30 GMT") == (Verdict.RETRY, 30.0)
    assert verdict(429, retry_after="86400") == (Verdict.RETRY, MAX_DELAY)
    assert verdict(429) == (Verdict.RETRY, 10.0)  # without the header: the backoff
