"""Migration scripts, one a file, named <revision>_<slug>.py (Alembic skips this file)."""
