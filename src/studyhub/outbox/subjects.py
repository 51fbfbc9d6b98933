"""What an outbox job is about: a lecture's file or a personal item, read and updated by the relay.

Every index job names the version it was written for (`revision`: the lecture's storage name, the
personal item's `index_revision`). A job for a version that is no longer current is skipped, so a
file replaced twice in quick succession is uploaded once, and never after its row is gone.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.core.storage import FileStore
from studyhub.courses.models import IndexStatus, Lecture
from studyhub.indexer.client import Upload
from studyhub.outbox.models import SubjectType
from studyhub.personal.models import ItemKind, PersonalItem


def _model(subject_type: SubjectType) -> type[Lecture] | type[PersonalItem]:
    return Lecture if subject_type is SubjectType.LECTURE else PersonalItem


async def current_upload(
    session: AsyncSession,
    files: FileStore,
    subject_type: SubjectType,
    subject_id: int,
    payload: dict[str, Any],
) -> Upload | None:
    """The document to send, or None when the job is stale (subject gone or changed since)."""
    revision = payload.get("revision")
    tags = [str(tag) for tag in payload.get("tags", [])]
    if subject_type is SubjectType.LECTURE:
        lecture = await session.get(Lecture, subject_id)
        if lecture is None or lecture.file_storage_name != revision or not revision:
            return None
        content = await _read(files, lecture.file_storage_name)
        if content is None:
            return None
        return Upload(
            filename=lecture.file_name or "file",
            content=content,
            media_type=lecture.file_media_type or "application/octet-stream",
            title=lecture.title,
            document_type=str(payload.get("document_type", "text")),
            collection="course",
            tags=tags,
            course_id=lecture.course_id,
        )
    item = await session.get(PersonalItem, subject_id)
    if item is None or item.index_revision != revision or not revision:
        return None
    if item.kind is ItemKind.NOTE:
        content = f"# {item.title}\n\n{item.content}".encode()
        filename, media_type = "note.md", "text/markdown"
    else:
        read = await _read(files, item.file_storage_name)
        if read is None:
            return None
        content = read
        filename = item.file_name or "file"
        media_type = item.file_media_type or "application/octet-stream"
    return Upload(
        filename=filename,
        content=content,
        media_type=media_type,
        title=item.title,
        document_type=str(payload.get("document_type", "markdown")),
        collection="personal",
        tags=tags,
    )


async def _read(files: FileStore, storage_name: str | None) -> bytes | None:
    if not storage_name:
        return None
    try:
        return await asyncio.to_thread(files.path(storage_name).read_bytes)
    except (FileNotFoundError, ValueError):
        return None


async def record_uploaded(
    session: AsyncSession,
    subject_type: SubjectType,
    subject_id: int,
    revision: object,
    document_id: str,
) -> bool:
    """Point the subject at its new document; False if the subject changed while we uploaded."""
    model = _model(subject_type)
    revision_column = (
        Lecture.file_storage_name
        if subject_type is SubjectType.LECTURE
        else PersonalItem.index_revision
    )
    result = await session.execute(
        update(model)
        .where(model.id == subject_id, revision_column == revision)
        .values(indexer_document_id=document_id, index_status=IndexStatus.PROCESSING)
    )
    return bool(getattr(result, "rowcount", 0))


async def record_status(
    session: AsyncSession,
    subject_type: SubjectType,
    subject_id: int,
    document_id: str | None,
    status: IndexStatus,
) -> None:
    """Set `index_status` if the subject still refers to this document (else the news is old)."""
    model = _model(subject_type)
    stmt = update(model).where(model.id == subject_id).values(index_status=status)
    if document_id is not None:
        stmt = stmt.where(model.indexer_document_id == document_id)
    await session.execute(stmt)


async def subject_exists(session: AsyncSession, subject_type: SubjectType, subject_id: int) -> bool:
    model = _model(subject_type)
    return (await session.scalar(select(model.id).where(model.id == subject_id))) is not None
