"""SQL that joins StudyIndexer's hits with what they are about."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.courses.models import Course, Lecture, Week


@dataclass(frozen=True, slots=True)
class LectureSource:
    document_id: str
    lecture: Lecture
    week: Week
    course: Course


class SearchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lecture_sources(self, document_ids: Sequence[str]) -> dict[str, LectureSource]:
        """The current lecture (with week and course) of each document id, in one query. Ids of
        replaced or deleted files match nothing, so stale hits drop out here."""
        if not document_ids:
            return {}
        rows = await self.session.execute(
            select(Lecture, Week, Course)
            .join(Week, Week.id == Lecture.week_id)
            .join(Course, Course.id == Lecture.course_id)
            .where(Lecture.indexer_document_id.in_(sorted(set(document_ids))))
        )
        return {
            str(lecture.indexer_document_id): LectureSource(
                str(lecture.indexer_document_id), lecture, week, course
            )
            for lecture, week, course in rows
        }
