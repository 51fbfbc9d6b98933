"""ORM rows to response schemas, shared by routers and services (for ETags)."""

from __future__ import annotations

from studyhub.courses.models import Lecture
from studyhub.courses.schemas import LectureFile, LectureOut


def lecture_out(lecture: Lecture) -> LectureOut:
    file = (
        LectureFile(
            name=lecture.file_name or "file",
            size=lecture.file_size or 0,
            media_type=lecture.file_media_type or "application/octet-stream",
        )
        if lecture.file_storage_name
        else None
    )
    return LectureOut(
        id=lecture.id,
        course_id=lecture.course_id,
        week_id=lecture.week_id,
        number=lecture.number,
        title=lecture.title,
        description=lecture.description,
        content_type=lecture.content_type,
        url=lecture.url,
        body=lecture.body,
        transcript=lecture.transcript,
        duration_seconds=lecture.duration_seconds,
        is_published=lecture.is_published,
        file=file,
        index_status=lecture.index_status,
    )
