"""ORM rows to response schemas, shared by routers and services (for ETags)."""

from __future__ import annotations

from collections.abc import Sequence

from studyhub.assignments.repository import AssignmentRow
from studyhub.courses.models import Course, Lecture, Week
from studyhub.courses.repository import LectureSummaryRow
from studyhub.courses.schemas import (
    AssignmentSummary,
    CourseSummary,
    Instructor,
    LectureFile,
    LectureOut,
    LectureSummary,
    WeekOut,
)


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


def summary_of(course: Course, instructor_name: str | None) -> CourseSummary:
    instructor = (
        Instructor(id=course.instructor_id, name=instructor_name or "")
        if course.instructor_id is not None
        else None
    )
    return CourseSummary(
        id=course.id,
        code=course.code,
        name=course.name,
        description=course.description,
        status=course.status,
        instructor=instructor,
        enrollment_count=course.enrollment_count,
        max_students=course.max_students,
        enrollment_type=course.enrollment_type,
        start_date=course.start_date,
        end_date=course.end_date,
        created_at=course.created_at,
        updated_at=course.updated_at,
    )


def assignment_summary(row: AssignmentRow) -> AssignmentSummary:
    a = row.assignment
    return AssignmentSummary(
        id=a.id,
        week_id=a.week_id,
        title=a.title,
        type=a.type,
        start_date=a.start_date,
        due_date=a.due_date,
        is_published=a.is_published,
        max_score=row.max_score,
        question_count=row.question_count,
    )


def _lecture_summary(lecture: Lecture | LectureSummaryRow) -> LectureSummary:
    if isinstance(lecture, Lecture):
        return LectureSummary.model_validate(lecture)
    # From the row's mapping: validating "from attributes" probes a Row for every field it
    # lacks (`completed`) through a raised and caught KeyError.
    return LectureSummary.model_validate(lecture._mapping)


def week_out(
    week: Week,
    lectures: Sequence[Lecture | LectureSummaryRow],
    assignments: Sequence[AssignmentRow] = (),
) -> WeekOut:
    """`lectures`: rows or summary rows (`LectureRepository.summaries_for_weeks`)."""
    return WeekOut(
        id=week.id,
        number=week.number,
        title=week.title,
        description=week.description,
        is_published=week.is_published,
        lectures=[_lecture_summary(lecture) for lecture in lectures],
        assignments=[assignment_summary(row) for row in assignments],
    )
