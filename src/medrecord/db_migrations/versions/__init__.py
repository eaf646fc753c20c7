"""Alembic revisions of the unified tables."""
