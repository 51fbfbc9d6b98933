"""The course world of tests/courses, for admin views that count what it holds."""

from tests.courses.conftest import world

__all__ = ["world"]
