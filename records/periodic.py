"""The scheduler's claims: each base's registry check, each schedule's runs (database I/O).

Several schedulers may run at once: every claim is one conditional UPDATE (or an INSERT that a
unique key lets only one process make), so exactly one of them checks a base in an interval,
or runs a schedule's due time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from records.schema import base_checks, rebuild_schedules

ScheduleKey = tuple[str, str, int]  # (repository, provider, rule_index)


@dataclass(frozen=True)
class BaseCheck:
    """What the last registry check of a base found, and when the next one is due."""

    reference: str
    digest: str | None
    outcome: str | None  # unchanged | changed | rate_limited | failed
    message: str | None
    failures: int
    checked_at: datetime | None
    next_check_at: datetime


@dataclass(frozen=True)
class ScheduleState:
    """A schedule's last claimed run."""

    expression: str
    last_due_at: datetime
    last_run_at: datetime | None


def claim_check(engine: Engine, reference: str, *, now: datetime, interval: int) -> bool:
    """Take the check of `reference` that is due now (next due `interval` seconds later);
    False when it is not due, or another scheduler took it."""
    later = now + timedelta(seconds=interval)
    try:
        with engine.begin() as conn:
            conn.execute(insert(base_checks).values(reference=reference, failures=0,
                                                    next_check_at=later))
        return True
    except IntegrityError:
        pass
    with engine.begin() as conn:
        claimed = conn.execute(update(base_checks).where(
            base_checks.c.reference == reference, base_checks.c.next_check_at <= now
        ).values(next_check_at=later))
    return bool(claimed.rowcount)


def finish_check(engine: Engine, reference: str, *, now: datetime, digest: str | None,
                 outcome: str, message: str | None, next_check_at: datetime | None = None,
                 failures: int = 0) -> None:
    """Record a check's answer (the digest is kept when the registry gave none)."""
    values: dict[str, object] = {"outcome": outcome, "message": message, "failures": failures,
                                 "checked_at": now}
    if digest is not None:
        values["digest"] = digest
    if next_check_at is not None:
        values["next_check_at"] = next_check_at
    with engine.begin() as conn:
        conn.execute(update(base_checks).where(base_checks.c.reference == reference)
                     .values(**values))


def base_checks_of(engine: Engine, references: list[str]) -> dict[str, BaseCheck]:
    """The checks of these (canonical) references that ran or are planned."""
    if not references:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(select(base_checks).where(
            base_checks.c.reference.in_(references))).mappings().all()
    return {row["reference"]: BaseCheck(**dict(row)) for row in rows}


def claim_run(engine: Engine, key: ScheduleKey, *, expression: str, due: datetime) -> bool:
    """Take the schedule's run due at `due`. The first time a schedule (or a changed one) is
    seen, its latest due time is only remembered: it runs from the next one on."""
    repository, provider, rule_index = key
    where = (rebuild_schedules.c.repository == repository,
             rebuild_schedules.c.provider == provider,
             rebuild_schedules.c.rule_index == rule_index)
    try:
        with engine.begin() as conn:
            conn.execute(insert(rebuild_schedules).values(
                repository=repository, provider=provider, rule_index=rule_index,
                expression=expression, last_due_at=due))
        return False
    except IntegrityError:
        pass
    with engine.begin() as conn:
        changed = conn.execute(update(rebuild_schedules).where(
            *where, rebuild_schedules.c.expression != expression
        ).values(expression=expression, last_due_at=due, last_run_at=None))
        if changed.rowcount:
            return False
        claimed = conn.execute(update(rebuild_schedules).where(
            *where, rebuild_schedules.c.expression == expression,
            rebuild_schedules.c.last_due_at < due).values(last_due_at=due))
    return bool(claimed.rowcount)


def ran(engine: Engine, key: ScheduleKey, *, now: datetime) -> None:
    """Remember when the claimed run was queued."""
    repository, provider, rule_index = key
    with engine.begin() as conn:
        conn.execute(update(rebuild_schedules).where(
            rebuild_schedules.c.repository == repository,
            rebuild_schedules.c.provider == provider,
            rebuild_schedules.c.rule_index == rule_index).values(last_run_at=now))


def schedule_states(engine: Engine, keys: list[ScheduleKey]) -> dict[ScheduleKey, ScheduleState]:
    """The known schedules among these rules."""
    if not keys:
        return {}
    repositories = sorted({key[0] for key in keys})
    with engine.connect() as conn:
        rows = conn.execute(select(rebuild_schedules).where(
            rebuild_schedules.c.repository.in_(repositories))).mappings().all()
    found = {(r["repository"], r["provider"], int(r["rule_index"])): ScheduleState(
        r["expression"], r["last_due_at"], r["last_run_at"]) for r in rows}
    return {key: found[key] for key in keys if key in found}
