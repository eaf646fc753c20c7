"""Alembic migration scripts of the unified tables (version table ``medrecord_alembic_version``)."""
