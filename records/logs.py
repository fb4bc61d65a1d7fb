"""Build logs: appended while the build runs, capped, read back in order (database I/O)."""

from __future__ import annotations

from sqlalchemy import Engine, func, insert, select, update

from records.schema import build_logs, builds

TRUNCATION_MARKER = "\n...<log truncated: the build printed more than the log cap>\n"


class BuildLogMixin:
    """Log methods of BuildStore (kept apart so each module has one reason to change)."""

    engine: Engine
    log_cap: int

    def append_log(self, build_id: str, text: str) -> None:
        """Append build output; past the cap, one truncation marker and nothing more.

        Safe with several writers of one log (the worker, a cancel from the web): each append
        first takes the build row's write lock, so they number their chunks in turn.
        """
        if not text:
            return
        with self.engine.begin() as conn:
            locked = conn.execute(update(builds).where(builds.c.id == build_id)
                                  .values(log_size=builds.c.log_size))
            if not locked.rowcount:
                return
            size = conn.execute(
                select(builds.c.log_size).where(builds.c.id == build_id)
            ).scalar_one()
            if size >= self.log_cap:
                return
            room = self.log_cap - size
            if len(text) > room:
                text = text[:room] + TRUNCATION_MARKER
                new_size = self.log_cap
            else:
                new_size = size + len(text)
            seq = conn.execute(
                select(func.coalesce(func.max(build_logs.c.seq), 0)).where(
                    build_logs.c.build_id == build_id
                )
            ).scalar_one()
            conn.execute(insert(build_logs).values(build_id=build_id, seq=seq + 1, text=text))
            conn.execute(update(builds).where(builds.c.id == build_id).values(log_size=new_size))

    def log_chunks(self, build_id: str, *, after_seq: int = 0) -> list[tuple[int, str]]:
        """Log chunks with seq > after_seq, in order (for live streaming)."""
        query = (
            select(build_logs.c.seq, build_logs.c.text)
            .where(build_logs.c.build_id == build_id, build_logs.c.seq > after_seq)
            .order_by(build_logs.c.seq)
        )
        with self.engine.connect() as conn:
            return [(int(seq), str(text)) for seq, text in conn.execute(query).all()]

    def log_tail(self, build_id: str, limit: int) -> tuple[str, int, bool]:
        """The last `limit` characters of the log (read from its newest chunks back, never the
        whole of a long log), the newest chunk's seq, and whether anything was left out."""
        query = (select(build_logs.c.seq, build_logs.c.text)
                 .where(build_logs.c.build_id == build_id)
                 .order_by(build_logs.c.seq.desc()))
        kept: list[str] = []
        size, last_seq, cut = 0, 0, False
        with self.engine.connect() as conn:
            for seq, text in conn.execute(query.execution_options(yield_per=16)):
                last_seq = last_seq or int(seq)
                if size >= limit:
                    cut = True
                    break
                kept.append(str(text))
                size += len(text)
        tail = "".join(reversed(kept))
        if len(tail) > limit:
            tail, cut = tail[-limit:], True
        return tail, last_seq, cut

    def get_log(self, build_id: str) -> str:
        """The whole log of a build."""
        return "".join(text for _, text in self.log_chunks(build_id))
