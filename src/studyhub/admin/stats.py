"""`GET /admin/stats` (API.md §10): platform figures for administrators, a handful of counts."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy import ColumnElement, distinct, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.assignments.models import Assignment, Submission
from studyhub.core.db import utcnow
from studyhub.courses.models import Course, CourseStatus
from studyhub.enrollments.models import Enrollment, EnrollmentStatus
from studyhub.outbox.models import OutboxEvent, OutboxStatus
from studyhub.progress.models import ActivityDay
from studyhub.users.models import User, UserRole


class UserStats(BaseModel):
    total: int
    by_role: dict[UserRole, int]


class CourseStats(BaseModel):
    total: int
    published: int


class IndexingStats(BaseModel):
    pending: int
    failed: int


class AdminStats(BaseModel):
    users: UserStats
    courses: CourseStats
    enrollments: int
    assignments: int
    submissions_last_7d: int
    active_users_7d: int
    indexing: IndexingStats


class StatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _count(self, *where: ColumnElement[bool], of: type) -> int:
        return int(
            await self.session.scalar(select(func.count()).select_from(of).where(*where)) or 0
        )

    async def stats(self) -> AdminStats:
        since = utcnow() - timedelta(days=7)
        by_role = dict.fromkeys(UserRole, 0)
        for role, count in await self.session.execute(
            select(User.role, func.count()).group_by(User.role)
        ):
            by_role[role] = int(count)
        # Active: logged in, or recorded progress, or submitted in the last 7 days.
        active = union(
            select(User.id.label("user_id")).where(User.last_login_at >= since),
            select(ActivityDay.user_id).where(ActivityDay.day >= since.date()),
            select(Submission.user_id).where(Submission.submitted_at >= since),
        ).subquery()
        active_users = await self.session.scalar(select(func.count(distinct(active.c.user_id))))
        return AdminStats(
            users=UserStats(total=sum(by_role.values()), by_role=by_role),
            courses=CourseStats(
                total=await self._count(of=Course),
                published=await self._count(Course.status == CourseStatus.PUBLISHED, of=Course),
            ),
            enrollments=await self._count(
                Enrollment.status == EnrollmentStatus.ACTIVE, of=Enrollment
            ),
            assignments=await self._count(of=Assignment),
            submissions_last_7d=await self._count(Submission.submitted_at >= since, of=Submission),
            active_users_7d=int(active_users or 0),
            indexing=IndexingStats(
                pending=await self._count(
                    OutboxEvent.status.in_([OutboxStatus.PENDING, OutboxStatus.PROCESSING]),
                    of=OutboxEvent,
                ),
                failed=await self._count(
                    OutboxEvent.status.in_([OutboxStatus.FAILED, OutboxStatus.DEAD]),
                    of=OutboxEvent,
                ),
            ),
        )
