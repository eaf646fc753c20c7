"""Helpers that the test suite uses to run real services, such as a PostgreSQL server."""
