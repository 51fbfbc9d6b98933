"""`CourseReader`: a course page and its outline for one reader, from caches when the version
stamps (`courses.cache`) allow.

A cached read must not pay for a request transaction it does not use: like `UserReader`, the
reader opens a short read-only session only on a miss, so a `GET /courses/{id}` answered from
the caches touches neither the database nor a session. Access is decided by the same rule as
for writers (`courses.access`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.assignments.repository import AssignmentRepository, AssignmentRow
from studyhub.auth.dependencies import CurrentUser
from studyhub.auth.service import Principal
from studyhub.core.db import Database
from studyhub.courses.access import (
    STAFF_ROLES,
    CourseContext,
    Level,
    access_level,
    check_level,
    role_in_course,
)
from studyhub.courses.cache import CourseCacheStore, CourseStamps
from studyhub.courses.exceptions import CourseNotFound
from studyhub.courses.models import CourseStatus
from studyhub.courses.outline import Item, RenderedOutline
from studyhub.courses.repository import (
    CourseRepository,
    LectureRepository,
    LectureSummaryRow,
    Membership,
    WeekRepository,
)
from studyhub.courses.views import summary_of, week_out
from studyhub.enrollments.models import CourseRole
from studyhub.progress.reader import ProgressReader
from studyhub.users.models import UserRole


@dataclass(frozen=True, slots=True)
class CourseView:
    """A course as one reader sees it, as plain values: no ORM row, so it can be cached."""

    course_id: int
    summary: dict[str, Any]  # the CourseSummary, JSON-ready
    status: CourseStatus
    principal: Principal
    my_role: CourseRole | None
    stamps: CourseStamps | None  # None: nothing cached may be used

    @property
    def sees_drafts(self) -> bool:
        """Staff see unpublished weeks and items; students never do."""
        return self.principal.role is UserRole.ADMIN or self.my_role in STAFF_ROLES


def view_of(context: CourseContext) -> CourseView:
    """A writer's view of the course it holds, read from its row (never from a cache)."""
    course = context.course
    summary = summary_of(course, context.instructor_name).model_dump(mode="json")
    return CourseView(course.id, summary, course.status, context.principal, context.my_role, None)


def detail_json(view: CourseView, outline: bytes) -> bytes:
    """`CourseDetail` JSON: GET, PATCH and their ETags all come from here, so they agree."""
    role = view.my_role.value if view.my_role is not None else None
    head = to_json({**view.summary, "my_role": role})  # `weeks` is the model's last field
    return b"".join((head[:-1], b',"weeks":', outline, b"}"))


async def load_outline(session: AsyncSession, course_id: int, *, drafts: bool) -> RenderedOutline:
    """Weeks with their items in a constant number of queries, whatever the course's size."""
    published_only = not drafts
    weeks = await WeekRepository(session).for_course(course_id, published_only=published_only)
    week_ids = [w.id for w in weeks]
    lectures = await LectureRepository(session).summaries_for_weeks(
        week_ids, published_only=published_only
    )
    tasks = await AssignmentRepository(session).for_weeks(week_ids, published_only=published_only)
    by_week: dict[int, list[LectureSummaryRow]] = {}
    for lecture in lectures:
        by_week.setdefault(lecture.week_id, []).append(lecture)
    tasks_by_week: dict[int, list[AssignmentRow]] = {}
    for row in tasks:
        tasks_by_week.setdefault(row.assignment.week_id, []).append(row)
    return RenderedOutline.of(
        [week_out(w, by_week.get(w.id, []), tasks_by_week.get(w.id, [])) for w in weeks]
    )


class CourseReader:
    def __init__(self, database: Database, store: CourseCacheStore) -> None:
        self.database = database
        self.store = store

    def _session(self) -> AsyncSession:
        return self.database.session(write=False)

    async def view(self, principal: Principal, course_id: int, needed: Level) -> CourseView:
        """The course row and the caller's membership: cached under the current stamps, else
        one query (then kept for the next reader)."""
        stamps = await self.store.stamps(course_id, principal.user_id)
        course_key = member_key = None
        snapshot: tuple[dict[str, Any], CourseStatus] | None = None
        member: tuple[Membership | None] | None = None
        if stamps is not None:
            course_key = ("course", course_id, stamps.content, stamps.members)
            member_key = ("member", course_id, stamps.members, principal.user_id)
            snapshot, member = self.store.get(course_key), self.store.get(member_key)
        if snapshot is None or member is None:
            async with self._session() as session:
                found = await CourseRepository(session).get_for_viewer(course_id, principal.user_id)
                if found is None:
                    raise CourseNotFound
                summary = summary_of(found.course, found.instructor_name).model_dump(mode="json")
            snapshot, member = (summary, found.course.status), (found.membership,)
            if course_key is not None and member_key is not None:
                self.store.keep(course_key, snapshot)
                self.store.keep(member_key, member)
        my_role = role_in_course(member[0])
        is_admin = principal.role is UserRole.ADMIN
        check_level(access_level(is_admin=is_admin, my_role=my_role, status=snapshot[1]), needed)
        return CourseView(course_id, snapshot[0], snapshot[1], principal, my_role, stamps)

    async def detail_json(self, view: CourseView) -> bytes:
        return detail_json(view, await self.outline_json(view))

    async def weeks_json(self, view: CourseView) -> bytes:
        return b"".join((b'{"weeks":', await self.outline_json(view), b"}"))

    async def outline_json(self, view: CourseView) -> bytes:
        """Weeks with their items (a student's with `completed` flags). What the caches lack
        is read in one short session."""
        student = view.my_role is CourseRole.STUDENT
        outline = await self._cached_outline(view)
        done = self._cached_done(view) if student else frozenset()
        if outline is None or done is None:
            async with self._session() as session:
                if outline is None:
                    outline = await load_outline(session, view.course_id, drafts=view.sees_drafts)
                if done is None:
                    user_id = view.principal.user_id
                    done = frozenset(
                        await ProgressReader(session).completed_item_ids(user_id, view.course_id)
                    )
            await self._keep(view, outline, done if student else None)
        return outline.for_student(done) if student else outline.plain

    @staticmethod
    def _outline_key(view: CourseView) -> tuple[Any, ...] | None:
        stamps = view.stamps
        return ("outline", view.course_id, stamps.content, view.sees_drafts) if stamps else None

    @staticmethod
    def _done_key(view: CourseView) -> tuple[Any, ...] | None:
        stamps, user_id = view.stamps, view.principal.user_id
        # The content stamp too: a deleted item's id can come back (SQLite reuses the top id).
        return (
            ("done", view.course_id, user_id, stamps.content, stamps.progress) if stamps else None
        )

    async def _cached_outline(self, view: CourseView) -> RenderedOutline | None:
        """This process's copy, else the shared one (then kept here too)."""
        key, stamps = self._outline_key(view), view.stamps
        if key is None or stamps is None:
            return None
        outline: RenderedOutline | None = self.store.get(key)
        if outline is None:
            drafts = view.sees_drafts
            outline = await self.store.shared_outline(view.course_id, stamps.content, drafts=drafts)
            if outline is not None:
                self.store.keep(key, outline)
        return outline

    def _cached_done(self, view: CourseView) -> frozenset[Item] | None:
        key = self._done_key(view)
        return self.store.get(key) if key else None

    async def _keep(
        self, view: CourseView, outline: RenderedOutline, done: frozenset[Item] | None
    ) -> None:
        outline_key, done_key, stamps = self._outline_key(view), self._done_key(view), view.stamps
        if outline_key is None or done_key is None or stamps is None:
            return
        if self.store.get(outline_key) is None:
            self.store.keep(outline_key, outline)
            drafts = view.sees_drafts
            await self.store.share_outline(view.course_id, stamps.content, outline, drafts=drafts)
        if done is not None:
            self.store.keep(done_key, done)


@dataclass(frozen=True, slots=True)
class CoursePage:
    """A course resolved for one reader (access already checked) and what renders it."""

    view: CourseView
    reader: CourseReader

    async def detail_json(self) -> bytes:
        return await self.reader.detail_json(self.view)

    async def weeks_json(self) -> bytes:
        return await self.reader.weeks_json(self.view)


def _pages(needed: Level) -> Callable[..., Awaitable[CoursePage]]:
    async def dependency(
        course_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
        principal: CurrentUser,
        request: Request,
    ) -> CoursePage:
        reader = CourseReader(request.app.state.database, request.app.state.course_cache)
        return CoursePage(await reader.view(principal, course_id, needed), reader)

    return dependency


CoursePageDep = Annotated[CoursePage, Depends(_pages(Level.VIEW))]
EnrolledCoursePageDep = Annotated[CoursePage, Depends(_pages(Level.CONTENT))]
