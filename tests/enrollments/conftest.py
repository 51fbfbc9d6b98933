"""Enrollment tests reuse the courses `World`: a teacher's published course with a TA and a
student (and an admin and an outsider who are not enrolled)."""

from tests.courses.conftest import world

__all__ = ["world"]
