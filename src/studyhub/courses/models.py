from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from studyhub.core.db import Base, TimestampMixin
from studyhub.users.models import str_enum


class CourseStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class EnrollmentType(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ContentType(StrEnum):
    YOUTUBE = "youtube"
    PDF = "pdf"
    TEXT = "text"
    LINK = "link"


class IndexStatus(StrEnum):
    NOT_INDEXED = "not_indexed"
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class Course(TimestampMixin, Base):
    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("max_students IS NULL OR max_students >= 0", name="max_students"),
        CheckConstraint("enrollment_count >= 0", name="enrollment_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CourseStatus] = mapped_column(str_enum(CourseStatus), index=True)
    instructor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    max_students: Mapped[int | None]
    enrollment_type: Mapped[EnrollmentType] = mapped_column(str_enum(EnrollmentType))
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    # Active students, kept by atomic UPDATEs so capacity holds under concurrent enrollments.
    enrollment_count: Mapped[int] = mapped_column(default=0)


class Week(TimestampMixin, Base):
    __tablename__ = "weeks"
    __table_args__ = (UniqueConstraint("course_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    is_published: Mapped[bool] = mapped_column(default=False)


class Lecture(TimestampMixin, Base):
    __tablename__ = "lectures"
    __table_args__ = (
        UniqueConstraint("week_id", "number"),
        Index("ix_lectures_course_id_week_id", "course_id", "week_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Denormalised from the week: every lecture lookup is scoped by course in one indexed query.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    week_id: Mapped[int] = mapped_column(ForeignKey("weeks.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    content_type: Mapped[ContentType] = mapped_column(str_enum(ContentType))
    url: Mapped[str | None] = mapped_column(String(2048))
    body: Mapped[str] = mapped_column(Text, default="")
    transcript: Mapped[str] = mapped_column(Text, default="")
    duration_seconds: Mapped[int | None]
    is_published: Mapped[bool] = mapped_column(default=False)
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_size: Mapped[int | None]
    file_media_type: Mapped[str | None] = mapped_column(String(100))
    # Server-generated name under UPLOAD_DIR; never derived from the client's file name.
    file_storage_name: Mapped[str | None] = mapped_column(String(64))
    index_status: Mapped[IndexStatus] = mapped_column(
        str_enum(IndexStatus), default=IndexStatus.NOT_INDEXED
    )
    # StudyIndexer's id for the current file's document, once uploaded (search hits join on it).
    indexer_document_id: Mapped[str | None] = mapped_column(String(64), index=True)
