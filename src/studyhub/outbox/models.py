from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from studyhub.core.db import Base, TimestampMixin, utcnow
from studyhub.users.models import str_enum


class OutboxKind(StrEnum):
    INDEX = "index"
    DELETE = "delete"


class SubjectType(StrEnum):
    LECTURE = "lecture"
    PERSONAL_ITEM = "personal_item"


class OutboxStatus(StrEnum):
    PENDING = "pending"  # to upload (index) or delete
    PROCESSING = "processing"  # uploaded; polling StudyIndexer until it finishes
    DELIVERED = "delivered"
    FAILED = "failed"  # StudyIndexer reported the document failed; an admin may retry
    DEAD = "dead"  # gave up after OUTBOX_MAX_ATTEMPTS; an admin may retry


class OutboxEvent(TimestampMixin, Base):
    __tablename__ = "outbox_events"
    # The relay's claim query: due rows by status and time.
    __table_args__ = (
        Index("ix_outbox_events_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(str_enum(OutboxKind))
    subject_type: Mapped[SubjectType] = mapped_column(str_enum(SubjectType))
    # No foreign key: a delete job outlives the row it deletes the document of.
    subject_id: Mapped[int]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    document_id: Mapped[str | None] = mapped_column(String(64))
