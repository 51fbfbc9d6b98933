"""Imports every domain's models so `Base.metadata` knows all tables (Alembic, tests)."""

from studyhub.admin.models import IpBlock
from studyhub.assignments.models import Assignment, AssignmentQuestion, Question, Submission
from studyhub.auth.models import AuthSession, RefreshToken
from studyhub.courses.models import Course, Lecture, Week
from studyhub.enrollments.models import Enrollment
from studyhub.outbox.models import OutboxEvent
from studyhub.personal.models import PersonalFolder, PersonalItem
from studyhub.users.models import User

__all__ = [
    "Assignment",
    "AssignmentQuestion",
    "AuthSession",
    "Course",
    "Enrollment",
    "IpBlock",
    "Lecture",
    "OutboxEvent",
    "PersonalFolder",
    "PersonalItem",
    "Question",
    "RefreshToken",
    "Submission",
    "User",
    "Week",
]
