"""Imports every domain's models so `Base.metadata` knows all tables (Alembic, tests)."""

from studyhub.admin.models import IpBlock
from studyhub.auth.models import AuthSession, RefreshToken
from studyhub.courses.models import Course, Lecture, Week
from studyhub.enrollments.models import Enrollment
from studyhub.progress.models import ActivityDay, CourseCompletion, LectureProgress, ProgressEvent
from studyhub.users.models import User

__all__ = [
    "ActivityDay",
    "AuthSession",
    "Course",
    "CourseCompletion",
    "Enrollment",
    "IpBlock",
    "Lecture",
    "LectureProgress",
    "ProgressEvent",
    "RefreshToken",
    "User",
    "Week",
]
