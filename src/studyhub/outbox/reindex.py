"""`studyhub reindex`: queue every lecture file for indexing again (e.g. after StudyIndexer lost
its data). Each file's current document, if any, is deleted and a fresh one uploaded."""

from __future__ import annotations

from sqlalchemy import select

from studyhub.core.config import Settings
from studyhub.core.db import Database, create_engine
from studyhub.courses.content import lecture_index_payload
from studyhub.courses.models import Course, IndexStatus, Lecture
from studyhub.outbox.models import SubjectType
from studyhub.outbox.repository import OutboxRepository


async def enqueue_reindex(settings: Settings, course_code: str | None = None) -> int:
    """Queue the jobs in one transaction; the relay of a running server delivers them."""
    database = Database(create_engine(settings))
    try:
        async with database.session() as session, session.begin():
            stmt = select(Lecture).where(Lecture.file_storage_name.is_not(None))
            if course_code is not None:
                course_id = await session.scalar(
                    select(Course.id).where(Course.code == course_code.strip().upper())
                )
                if course_id is None:
                    raise ValueError(f"no course with code {course_code!r}")
                stmt = stmt.where(Lecture.course_id == course_id)
            outbox = OutboxRepository(session)
            lectures = list(await session.scalars(stmt.order_by(Lecture.id)))
            for lecture in lectures:
                if lecture.indexer_document_id:
                    outbox.enqueue_delete(
                        SubjectType.LECTURE, lecture.id, lecture.indexer_document_id
                    )
                extension = (lecture.file_name or "").rsplit(".", 1)[-1].lower()
                lecture.indexer_document_id = None
                lecture.index_status = IndexStatus.PENDING
                outbox.enqueue_index(
                    SubjectType.LECTURE,
                    lecture.id,
                    lecture_index_payload(
                        lecture.id, lecture.course_id, str(lecture.file_storage_name), extension
                    ),
                )
        return len(lectures)
    finally:
        await database.dispose()
