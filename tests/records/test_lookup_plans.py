"""Webhook intake's "already built?" question is an index search on SQLite, not a walk over
every build of the rule (it is asked for every delivery, also while thousands wait)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event

from records.db import make_engine
from records.migrate import upgrade
from records.tag_history import HOLDING


def test_the_already_built_query_searches_the_commit_and_pushed_indexes(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/plans.db")
    upgrade(engine)  # the migrations' indexes, as a deployed database has them
    values = {"repository": "acme/app", "provider": "github", "rule_index": 0,
              "ref": "refs/heads/main", "commit": "a" * 40}
    sent: list[tuple[str, object]] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, parameters, *_: sent.append((statement, parameters)))
    with engine.connect() as conn:
        conn.execute(HOLDING, values)  # the statement exactly as intake sends it
        statement, parameters = sent[-1]
        plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                       parameters)]  # type: ignore[arg-type]
    engine.dispose()

    assert any("USING INDEX ix_builds_rule_ref_commit (repository=? AND provider=? AND "
               "rule_index=? AND ref=? AND commit_sha=?)" in step for step in plan), plan
    assert any("USING INDEX ix_builds_rule_ref_pushed" in step for step in plan), plan
