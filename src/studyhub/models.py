"""Imports every domain's models so `Base.metadata` knows all tables (Alembic, tests)."""

from studyhub.users.models import User

__all__ = ["User"]
