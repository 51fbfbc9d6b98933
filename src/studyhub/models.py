"""Imports every domain's models so `Base.metadata` knows all tables (Alembic, tests)."""

from studyhub.admin.models import IpBlock
from studyhub.assignments.models import Assignment, AssignmentQuestion, Question, Submission
from studyhub.auth.models import AuthSession, RefreshToken
from studyhub.courses.models import Course, Lecture, Week
from studyhub.enrollments.models import Enrollment
from studyhub.outbox.models import OutboxEvent
from studyhub.personal.models import PersonalFolder, PersonalItem
from studyhub.progress.models import ActivityDay, CourseCompletion, LectureProgress, ProgressEvent
from studyhub.users.models import User

__all__ = [
    "ActivityDay",
    "Assignment",
    "AssignmentQuestion",
    "AuthSession",
    "Course",
    "CourseCompletion",
    "Enrollment",
    "IpBlock",
    "Lecture",
    "LectureProgress",
    "OutboxEvent",
    "PersonalFolder",
    "PersonalItem",
    "ProgressEvent",
    "Question",
    "RefreshToken",
    "Submission",
    "User",
    "Week",
]
