from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from studyhub.core.db import Base, utcnow
from studyhub.users.models import str_enum


class CourseRole(StrEnum):
    TEACHER = "teacher"
    TA = "ta"
    STUDENT = "student"


class EnrollmentStatus(StrEnum):
    ACTIVE = "active"
    DROPPED = "dropped"
    COMPLETED = "completed"


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        Index("ix_enrollments_course_id_role_status", "course_id", "role", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[CourseRole] = mapped_column(str_enum(CourseRole))
    status: Mapped[EnrollmentStatus] = mapped_column(str_enum(EnrollmentStatus))
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
