from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.enrollments.models import Enrollment


class EnrollmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, enrollment: Enrollment) -> Enrollment:
        self.session.add(enrollment)
        await self.session.flush()
        return enrollment
