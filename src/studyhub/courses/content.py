"""Weeks and lectures: staff edit them, enrolled students read what is published."""

from __future__ import annotations

from pathlib import Path

from fastapi import UploadFile

from studyhub.assignments.repository import AssignmentRepository
from studyhub.core.errors import ValidationFailed
from studyhub.core.http import check_if_match, compute_etag
from studyhub.core.sanitize import sanitize_html
from studyhub.core.storage import FileKind, FileStore, StoredFile
from studyhub.courses.access import CourseContext
from studyhub.courses.cache import CourseCache
from studyhub.courses.exceptions import (
    LectureNotFound,
    WeekNotFound,
    WeekNumberTaken,
)
from studyhub.courses.models import IndexStatus, Lecture, Week
from studyhub.courses.repository import LectureRepository, WeekRepository
from studyhub.courses.schemas import (
    LectureCreate,
    LectureUpdate,
    WeekCreate,
    WeekOut,
    WeekUpdate,
)
from studyhub.courses.views import lecture_out, week_out
from studyhub.indexer.schemas import DOCUMENT_TYPES
from studyhub.outbox.models import SubjectType
from studyhub.outbox.repository import OutboxRepository
from studyhub.progress.rollups import RollupRepository

LECTURE_FILE_KINDS = {FileKind.PDF, FileKind.TEXT, FileKind.MARKDOWN, FileKind.DOCX}
REQUIRED_FIELDS = ("title", "number", "content_type", "is_published")


def _reject_nulls(changes: dict[str, object], fields: tuple[str, ...]) -> None:
    for name in fields:
        if name in changes and changes[name] is None:
            raise ValidationFailed(details={name: ["may not be null"]})


class ContentService:
    def __init__(
        self,
        weeks: WeekRepository,
        lectures: LectureRepository,
        assignments: AssignmentRepository,
        cache: CourseCache,
        files: FileStore,
        outbox: OutboxRepository,
        rollups: RollupRepository,
    ) -> None:
        self.weeks = weeks
        self.lectures = lectures
        self.assignments = assignments
        self.cache = cache
        self.files = files
        # Index jobs are written in the request's transaction: committed with the change or not
        # at all, and delivered by the relay only after the commit (DESIGN.md §8).
        self.outbox = outbox
        # What counts towards progress changes with publication, moves and deletions.
        self.rollups = rollups

    # -- weeks ------------------------------------------------------------------------------

    async def week(self, context: CourseContext, week_id: int, *, lock: bool = False) -> Week:
        week = await self.weeks.get(context.course.id, week_id, lock=lock)
        if week is None or not (week.is_published or context.sees_drafts):
            raise WeekNotFound
        return week

    async def week_with_items(self, context: CourseContext, week_id: int) -> WeekOut:
        week = await self.week(context, week_id)
        drafts = context.sees_drafts
        lectures = await self.lectures.for_weeks([week.id], published_only=not drafts)
        assignments = await self.assignments.for_weeks([week.id], published_only=not drafts)
        return week_out(week, lectures, assignments)

    async def create_week(self, context: CourseContext, body: WeekCreate) -> WeekOut:
        course_id = context.course.id
        if any(
            w.number == body.number
            for w in await self.weeks.for_course(course_id, published_only=False)
        ):
            raise WeekNumberTaken(details={"number": ["taken"]})
        week = Week(
            course_id=course_id,
            number=body.number,
            title=body.title,
            description=sanitize_html(body.description),
            is_published=body.is_published,
        )
        await self.weeks.add(week)
        self.cache.course_changed(course_id)
        return week_out(week, [])

    async def update_week(
        self, context: CourseContext, week_id: int, body: WeekUpdate, if_match: str | None
    ) -> WeekOut:
        week = await self.week(context, week_id, lock=True)
        check_if_match(if_match, compute_etag(await self.week_with_items(context, week_id)))
        changes = body.model_dump(exclude_unset=True)
        _reject_nulls(changes, ("number", "title", "is_published", "description"))
        if "description" in changes:
            changes["description"] = sanitize_html(str(changes["description"]))
        await self.weeks.update(week, changes)
        if "is_published" in changes:
            await self.rollups.refresh_course(context.course.id)
        self.cache.course_changed(context.course.id)
        return await self.week_with_items(context, week.id)

    async def delete_week(self, context: CourseContext, week_id: int) -> None:
        week = await self.week(context, week_id)
        lectures = await self.lectures.for_weeks([week.id], published_only=False)
        await self.weeks.delete(week)
        await self.rollups.refresh_course(context.course.id)
        for lecture in lectures:
            self._discard_file_after_commit(lecture.file_storage_name)
            self._unindex(lecture)
        self.cache.course_changed(context.course.id)

    # -- lectures ---------------------------------------------------------------------------

    async def lecture(
        self, context: CourseContext, lecture_id: int, *, lock: bool = False
    ) -> Lecture:
        lecture = await self.lectures.get(context.course.id, lecture_id, lock=lock)
        if lecture is None:
            raise LectureNotFound
        if not context.sees_drafts:
            week = await self.weeks.get(context.course.id, lecture.week_id)
            if not (lecture.is_published and week is not None and week.is_published):
                raise LectureNotFound
        return lecture

    async def create_lecture(
        self, context: CourseContext, week_id: int, body: LectureCreate
    ) -> Lecture:
        week = await self.week(context, week_id)
        number = body.number or await self.lectures.next_number(week.id)
        lecture = Lecture(
            course_id=context.course.id,
            week_id=week.id,
            number=number,
            title=body.title,
            description=sanitize_html(body.description),
            content_type=body.content_type,
            url=body.url,
            body=sanitize_html(body.body),
            transcript=body.transcript,
            duration_seconds=body.duration_seconds,
            is_published=body.is_published,
        )
        await self.lectures.add(lecture)
        self.cache.course_changed(context.course.id)
        return lecture

    async def update_lecture(
        self, context: CourseContext, lecture_id: int, body: LectureUpdate, if_match: str | None
    ) -> Lecture:
        lecture = await self.lecture(context, lecture_id, lock=True)
        check_if_match(if_match, compute_etag(lecture_out(lecture)))
        changes = body.model_dump(exclude_unset=True)
        _reject_nulls(changes, (*REQUIRED_FIELDS, "week_id", "description", "body", "transcript"))
        if "week_id" in changes:
            await self.week(context, int(str(changes["week_id"])))  # 404 unless in this course
        for field in ("body", "description"):
            if field in changes:
                changes[field] = sanitize_html(str(changes[field]))
        await self.lectures.update(lecture, changes)
        if changes.keys() & {"is_published", "week_id"}:
            await self.rollups.refresh_course(context.course.id)
        self.cache.course_changed(context.course.id)
        return lecture

    async def delete_lecture(self, context: CourseContext, lecture_id: int) -> None:
        # Locked: the relay may be recording a new document id for it right now (see _attach).
        lecture = await self.lecture(context, lecture_id, lock=True)
        await self.lectures.delete(lecture)
        await self.rollups.refresh_course(context.course.id)
        self._discard_file_after_commit(lecture.file_storage_name)
        self._unindex(lecture)
        self.cache.course_changed(context.course.id)

    # -- lecture files ----------------------------------------------------------------------

    async def lecture_file(self, context: CourseContext, lecture_id: int) -> tuple[Lecture, Path]:
        lecture = await self.lecture(context, lecture_id)
        if not lecture.file_storage_name:
            raise LectureNotFound("This lecture has no file")
        path = self.files.path(lecture.file_storage_name)
        if not path.is_file():
            raise LectureNotFound("The lecture's file is missing")
        return lecture, path

    async def upload_file(
        self, context: CourseContext, lecture_id: int, upload: UploadFile
    ) -> Lecture:
        """Store and check the upload, then point the lecture at it; the replaced file is removed
        only once this commits, the new one if it does not."""
        lecture = await self.lecture(context, lecture_id)
        stored = await self.files.save(upload, LECTURE_FILE_KINDS)
        self.files.delete_on_rollback(self.lectures.session, stored.storage_name)
        # Re-read under a row lock (FOR UPDATE on PostgreSQL) once the slow part is over, so the
        # document id replaced below is the one the relay last committed; an unlocked copy could
        # be overwritten with None and that document never deleted.
        lecture = await self.lecture(context, lecture_id, lock=True)
        return await self._attach(context, lecture, stored)

    async def _attach(
        self, context: CourseContext, lecture: Lecture, upload: StoredFile
    ) -> Lecture:
        previous = lecture.file_storage_name
        self._unindex(lecture)  # the replaced file's document, if it was indexed
        await self.lectures.update(
            lecture,
            {
                "file_name": upload.name,
                "file_size": upload.size,
                "file_media_type": upload.media_type,
                "file_storage_name": upload.storage_name,
                "index_status": IndexStatus.PENDING,
                "indexer_document_id": None,
            },
        )
        self.outbox.enqueue_index(
            SubjectType.LECTURE,
            lecture.id,
            lecture_index_payload(lecture.id, lecture.course_id, upload.storage_name, upload.kind),
        )
        self._discard_file_after_commit(previous)
        self.cache.course_changed(context.course.id)
        return lecture

    def _unindex(self, lecture: Lecture) -> None:
        if lecture.indexer_document_id:
            self.outbox.enqueue_delete(SubjectType.LECTURE, lecture.id, lecture.indexer_document_id)

    def _discard_file_after_commit(self, storage_name: str | None) -> None:
        if storage_name:
            self.files.delete_after_commit(self.lectures.session, storage_name)


def lecture_index_payload(
    lecture_id: int, course_id: int, storage_name: str, kind: FileKind | str
) -> dict[str, object]:
    """The index job for one version (`revision`) of a lecture's file."""
    return {
        "revision": storage_name,
        "course_id": course_id,
        "document_type": DOCUMENT_TYPES.get(str(kind), "text"),
        "collection": "course",
        "tags": [f"course:{course_id}", f"lecture:{lecture_id}"],
    }
