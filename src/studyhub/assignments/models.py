"""Question bank, assignments (ordered questions) and graded submissions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from studyhub.core.db import Base, TimestampMixin, utcnow
from studyhub.users.models import str_enum


class QuestionType(StrEnum):
    MCQ = "mcq"
    MSQ = "msq"
    NUMERIC = "numeric"


class QuestionStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    INACTIVE = "inactive"


class AssignmentType(StrEnum):
    PRACTICE = "practice"
    GRADED = "graded"


class SubmissionStatus(StrEnum):
    SUBMITTED = "submitted"
    LATE = "late"


class Question(TimestampMixin, Base):
    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint("points > 0", name="points"),
        CheckConstraint("tolerance IS NULL OR tolerance >= 0", name="tolerance"),
        Index("ix_questions_course_id_status", "course_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    week_id: Mapped[int | None] = mapped_column(
        ForeignKey("weeks.id", ondelete="SET NULL"), index=True
    )
    lecture_id: Mapped[int | None] = mapped_column(
        ForeignKey("lectures.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200), default="")
    content: Mapped[str] = mapped_column(Text)
    type: Mapped[QuestionType] = mapped_column(str_enum(QuestionType))
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    # mcq: an option index; msq: a list of indexes; numeric: a number (± tolerance).
    correct_answer: Mapped[Any] = mapped_column(JSON)
    tolerance: Mapped[float | None] = mapped_column(Float)
    points: Mapped[float] = mapped_column(Float, default=1.0)
    explanation: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[QuestionStatus] = mapped_column(str_enum(QuestionStatus))


class Assignment(TimestampMixin, Base):
    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint(
            "late_penalty_percent >= 0 AND late_penalty_percent <= 100", name="late_penalty"
        ),
        CheckConstraint("max_attempts IS NULL OR max_attempts >= 1", name="max_attempts"),
        Index("ix_assignments_course_id_week_id", "course_id", "week_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Denormalised from the week, as for lectures: lookups are scoped by course in one query.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    week_id: Mapped[int] = mapped_column(ForeignKey("weeks.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[AssignmentType] = mapped_column(str_enum(AssignmentType))
    start_date: Mapped[datetime | None]
    due_date: Mapped[datetime | None]
    late_penalty_percent: Mapped[float] = mapped_column(Float, default=0.0)
    max_attempts: Mapped[int | None]
    is_published: Mapped[bool] = mapped_column(default=False)


class AssignmentQuestion(Base):
    """An assignment's questions, in order."""

    __tablename__ = "assignment_questions"

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int]


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        # Attempt numbers are unique per student and assignment: two concurrent submissions
        # cannot both take the last allowed attempt (the loser retries and is refused).
        UniqueConstraint("assignment_id", "user_id", "attempt"),
        # A retried request with the same Idempotency-Key finds the stored submission.
        UniqueConstraint("user_id", "assignment_id", "idempotency_key"),
        CheckConstraint("attempt >= 1", name="attempt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int]
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    # [{question_id, correct, points}] as graded; shown to students only when the policy allows.
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    status: Mapped[SubmissionStatus] = mapped_column(str_enum(SubmissionStatus))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
