"""Telling a process which builds moved, once the transaction that moved them has committed.

records/transitions.py notes every build that gets an event on the connection it writes with;
`after_commit(engine, callback)` makes the engine hand those ids to `callback` when the
connection goes back to its pool after a commit (a rolled-back transaction hands nothing).
That is how the process that made a transition, web or worker, enqueues its notifications
right away without every caller of `transition` knowing about it. The callback must not raise
(its errors are logged): the notifier's sweep finds whatever it did not enqueue.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, event

logger = logging.getLogger(__name__)
PENDING = "autobuild.moved"
COMMITTED = "autobuild.moved.committed"
_WATCHED: weakref.WeakSet[Engine] = weakref.WeakSet()

MovedCallback = Callable[[list[str]], None]


def note_moved(conn: Connection, build_ids: Sequence[str]) -> None:
    """Remember, on this connection, builds that got an event in its open transaction."""
    if build_ids and conn.engine in _WATCHED:
        conn.info.setdefault(PENDING, []).extend(build_ids)


def after_commit(engine: Engine, callback: MovedCallback) -> None:
    """Call `callback(build ids)` after each committed transaction on `engine` that moved
    builds; once per engine (a second call replaces nothing and is refused)."""
    if engine in _WATCHED:
        raise ValueError("after_commit is already set up for this engine")
    _WATCHED.add(engine)

    def committed(conn: Connection) -> None:
        moved = conn.info.pop(PENDING, None)
        if moved:
            conn.info.setdefault(COMMITTED, []).extend(moved)

    def rolled_back(conn: Connection) -> None:
        conn.info.pop(PENDING, None)

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        moved = record.info.pop(COMMITTED, None) if record is not None else None
        if not moved:
            return
        try:
            callback(list(dict.fromkeys(moved)))
        except Exception:  # noqa: BLE001 - the sweep picks up what was not handed over
            logger.exception("could not hand over the builds that moved: %s", moved)

    event.listen(engine, "commit", committed)
    event.listen(engine, "rollback", rolled_back)
    event.listen(engine, "checkin", checked_in)
