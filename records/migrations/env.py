"""Alembic environment: runs the migrations on the connection records.migrate hands over."""

from __future__ import annotations

from alembic import context


def run_migrations() -> None:
    """Migrate on config.attributes["connection"], inside the caller's transaction and lock."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "records/migrations runs only through records.migrate (`autobuild db upgrade`), "
            "which takes the migration lock and passes a connection; alembic's own command "
            "line has no configuration here"
        )
    context.configure(
        connection=connection,
        target_metadata=context.config.attributes.get("target_metadata"),
        # SQLite cannot ALTER most things: batch mode copies the table, and works on both.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
