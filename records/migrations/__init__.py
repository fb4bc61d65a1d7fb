"""Alembic migrations of the system of record; run them through records.migrate, not alembic."""
