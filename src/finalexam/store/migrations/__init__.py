"""Alembic migrations of the portfolio store, shipped with the package and run on open."""
