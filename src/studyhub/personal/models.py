from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from studyhub.core.db import Base, TimestampMixin
from studyhub.courses.models import IndexStatus
from studyhub.users.models import str_enum


class ItemKind(StrEnum):
    NOTE = "note"
    FILE = "file"


class PersonalFolder(TimestampMixin, Base):
    __tablename__ = "personal_folders"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Deleting a folder deletes its subfolders (and, through them, their items).
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("personal_folders.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))


class PersonalItem(TimestampMixin, Base):
    __tablename__ = "personal_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Denormalised from the folder so that every lookup is one `id AND owner_id` query.
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    folder_id: Mapped[int] = mapped_column(
        ForeignKey("personal_folders.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ItemKind] = mapped_column(str_enum(ItemKind))
    content: Mapped[str] = mapped_column(Text, default="")
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_size: Mapped[int | None]
    file_media_type: Mapped[str | None] = mapped_column(String(100))
    file_storage_name: Mapped[str | None] = mapped_column(String(64))
    index_status: Mapped[IndexStatus] = mapped_column(
        str_enum(IndexStatus), default=IndexStatus.NOT_INDEXED
    )
    # Changes with every version sent for indexing; the relay skips jobs for older versions.
    index_revision: Mapped[str | None] = mapped_column(String(32))
    indexer_document_id: Mapped[str | None] = mapped_column(String(64), index=True)
