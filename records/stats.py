"""Read-only aggregate queries for /metrics and the badges (database I/O, never loads all rows)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine, and_, case, func, literal_column, select
from sqlalchemy.sql.elements import ColumnElement

from core.status import BuildStatus
from records.schema import builds, deliveries

TAG_CANDIDATES = 20


def builds_by_repository_and_status(
    engine: Engine, statuses: Iterable[BuildStatus] | None = None
) -> list[tuple[str, str, int]]:
    """(repository, status, count) for every pair present, optionally only these statuses."""
    query = select(builds.c.repository, builds.c.status, func.count()).group_by(
        builds.c.repository, builds.c.status
    )
    if statuses is not None:
        query = query.where(builds.c.status.in_([s.value for s in statuses]))
    query = query.order_by(builds.c.repository, builds.c.status)
    with engine.connect() as conn:
        return [(str(r), str(s), int(n)) for r, s, n in conn.execute(query).all()]


def count_with_status(engine: Engine, statuses: Iterable[BuildStatus]) -> int:
    """How many builds are currently in one of `statuses`."""
    query = select(func.count()).select_from(builds).where(
        builds.c.status.in_([s.value for s in statuses])
    )
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def _phase_bounds() -> dict[str, tuple[ColumnElement[Any], ColumnElement[Any]]]:
    """(start, end) of each phase: a phase ends when the next begins or the build ends."""
    c = builds.c
    return {
        "clone": (c.started_at, func.coalesce(c.building_at, c.finished_at)),
        "build": (c.building_at, func.coalesce(c.pushing_at, c.finished_at)),
        "push": (c.pushing_at, c.finished_at),
        "total": (c.started_at, c.finished_at),
    }


PHASES = tuple(_phase_bounds())


def _seconds(
    engine: Engine, start: ColumnElement[Any], end: ColumnElement[Any]
) -> ColumnElement[Any]:
    """end - start in seconds, in this engine's SQL dialect."""
    name = engine.dialect.name
    if name == "postgresql":
        return func.extract("epoch", end - start)
    if name in ("mysql", "mariadb"):
        return func.timestampdiff(literal_column("MICROSECOND"), start, end) / 1000000.0
    # SQLite (and the fallback): Julian days, rounded to the millisecond against float noise.
    return func.round((func.julianday(end) - func.julianday(start)) * 86400.0, 3)


def duration_histogram(
    engine: Engine, bounds: Sequence[float], phase: str = "total"
) -> tuple[list[int], int, float]:
    """(cumulative count per upper bound, count, sum of seconds) of one phase of every build.

    Phases (see PHASES): clone, build, push, and total (start to end); a build counts in a
    phase once that phase has ended. One aggregate query; `bounds` must be ascending.
    """
    start, end = _phase_bounds()[phase]
    seconds = _seconds(engine, start, end)
    columns = [func.coalesce(func.sum(case((seconds <= b, 1), else_=0)), 0) for b in bounds]
    query = select(*columns, func.count(), func.coalesce(func.sum(seconds), 0.0)).where(
        and_(start.is_not(None), end.is_not(None))
    )
    with engine.connect() as conn:
        row = conn.execute(query).one()
    values = list(row)
    return [int(v) for v in values[: len(bounds)]], int(values[-2]), float(values[-1])


def deliveries_by_forge_and_outcome(engine: Engine) -> list[tuple[str, str, int]]:
    """(forge, outcome, count) of every webhook delivery recorded."""
    query = (
        select(deliveries.c.forge, deliveries.c.outcome, func.count())
        .group_by(deliveries.c.forge, deliveries.c.outcome)
        .order_by(deliveries.c.forge, deliveries.c.outcome)
    )
    with engine.connect() as conn:
        return [(str(f), str(o), int(n)) for f, o, n in conn.execute(query).all()]


def _not_in(statuses: Iterable[BuildStatus]) -> ColumnElement[bool]:
    return builds.c.status.not_in([s.value for s in statuses])


def latest_rule_status(
    engine: Engine, *, repository: str, provider: str, rule_index: int,
    ignore: Iterable[BuildStatus] = (),
) -> BuildStatus | None:
    """The status of the newest build of one rule (skipping `ignore`d statuses), or None."""
    query = (
        select(builds.c.status)
        .where(builds.c.repository == repository, builds.c.provider == provider,
               builds.c.rule_index == rule_index, _not_in(ignore))
        .order_by(builds.c.created_at.desc(), builds.c.id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        value = conn.execute(query).scalar_one_or_none()
    return BuildStatus(value) if value is not None else None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def latest_tag_status(
    engine: Engine, *, repository: str, provider: str, tag: str,
    ignore: Iterable[BuildStatus] = (),
) -> BuildStatus | None:
    """The status of the newest build that pushes a reference ending in ":<tag>", or None.

    `tags` is a JSON list, so `:<tag>"` finds references that end in the tag; LIKE may ignore
    case, so the few newest candidates are checked exactly here.
    """
    pattern = "%:" + _like_escape(tag) + '"%'
    query = (
        select(builds.c.status, builds.c.tags)
        .where(builds.c.repository == repository, builds.c.provider == provider,
               builds.c.tags.like(pattern, escape="\\"), _not_in(ignore))
        .order_by(builds.c.created_at.desc(), builds.c.id.desc())
        .limit(TAG_CANDIDATES)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    for status, tags in rows:
        if any(str(ref).endswith(":" + tag) for ref in json.loads(tags)):
            return BuildStatus(status)
    return None
