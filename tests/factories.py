"""Typed factories: build rows through the same services the API uses, committed at once."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update

from studyhub.assignments.models import (
    Assignment,
    AssignmentQuestion,
    AssignmentType,
    Question,
    QuestionStatus,
    QuestionType,
)
from studyhub.core.db import Database
from studyhub.core.passwords import PasswordHasher
from studyhub.courses.models import (
    ContentType,
    Course,
    CourseStatus,
    EnrollmentType,
    Lecture,
    Week,
)
from studyhub.enrollments.models import CourseRole, Enrollment, EnrollmentStatus
from studyhub.users.models import User, UserRole
from studyhub.users.repository import UserRepository
from studyhub.users.service import NewUser, UserService

DEFAULT_PASSWORD = "correct horse battery"
_counter = itertools.count(1)
_hasher = PasswordHasher(fast=True, max_concurrency=2)


async def make_user(
    database: Database,
    *,
    role: UserRole = UserRole.STUDENT,
    username: str | None = None,
    password: str = DEFAULT_PASSWORD,
    is_active: bool = True,
) -> User:
    n = next(_counter)
    username = username or f"{role.value}{n}"
    async with database.session() as session:
        user = await UserService(UserRepository(session), _hasher).create(
            NewUser(
                username=username,
                email=f"{username}@example.org",
                password=password,
                role=role,
                first_name=role.value.title(),
                last_name=f"No{n}",
                is_active=is_active,
            )
        )
        await session.commit()
    return user


async def make_course(
    database: Database,
    teacher: User | None = None,
    *,
    code: str | None = None,
    status: CourseStatus = CourseStatus.PUBLISHED,
    max_students: int | None = None,
    enrollment_type: EnrollmentType = EnrollmentType.OPEN,
) -> Course:
    n = next(_counter)
    async with database.session() as session:
        course = Course(
            code=code or f"C{n}",
            name=f"Course {n}",
            description="",
            status=status,
            instructor_id=teacher.id if teacher else None,
            max_students=max_students,
            enrollment_type=enrollment_type,
            enrollment_count=0,
        )
        session.add(course)
        await session.flush()
        if teacher is not None:
            session.add(
                Enrollment(
                    course_id=course.id,
                    user_id=teacher.id,
                    role=CourseRole.TEACHER,
                    status=EnrollmentStatus.ACTIVE,
                )
            )
        await session.commit()
    return course


async def enroll(
    database: Database,
    course: Course,
    user: User,
    role: CourseRole = CourseRole.STUDENT,
    status: EnrollmentStatus = EnrollmentStatus.ACTIVE,
) -> None:
    async with database.session() as session:
        session.add(Enrollment(course_id=course.id, user_id=user.id, role=role, status=status))
        if role is CourseRole.STUDENT and status is EnrollmentStatus.ACTIVE:
            await session.execute(
                update(Course)
                .where(Course.id == course.id)
                .values(enrollment_count=Course.enrollment_count + 1)
            )
        await session.commit()


async def make_week(
    database: Database, course: Course, *, number: int = 1, published: bool = True
) -> Week:
    async with database.session() as session:
        week = Week(
            course_id=course.id, number=number, title=f"Week {number}", is_published=published
        )
        session.add(week)
        await session.commit()
    return week


async def make_lecture(
    database: Database,
    week: Week,
    *,
    number: int = 1,
    published: bool = True,
    content_type: ContentType = ContentType.TEXT,
    duration_seconds: int | None = None,
) -> Lecture:
    async with database.session() as session:
        lecture = Lecture(
            course_id=week.course_id,
            week_id=week.id,
            number=number,
            title=f"Lecture {number}",
            content_type=content_type,
            body="<p>Hello</p>",
            duration_seconds=duration_seconds,
            is_published=published,
        )
        session.add(lecture)
        await session.commit()
    return lecture


async def attach_text_file(
    database: Database, lecture: Lecture, root: Path, content: bytes = b"Lecture notes\n"
) -> str:
    """Store a small text file as the lecture's file, as an upload would."""
    storage_name = uuid.uuid4().hex
    root.mkdir(parents=True, exist_ok=True)
    (root / storage_name).write_bytes(content)
    async with database.session() as session:
        await session.execute(
            update(Lecture)
            .where(Lecture.id == lecture.id)
            .values(
                file_name="notes.txt",
                file_size=len(content),
                file_media_type="text/plain",
                file_storage_name=storage_name,
            )
        )
        await session.commit()
    return storage_name


async def make_question(
    database: Database,
    course: Course,
    *,
    type: QuestionType = QuestionType.MCQ,
    options: list[str] | None = None,
    correct_answer: Any = 1,
    tolerance: float | None = None,
    points: float = 1.0,
    explanation: str = "Because.",
    status: QuestionStatus = QuestionStatus.ACTIVE,
) -> Question:
    if options is None:
        options = [] if type is QuestionType.NUMERIC else ["a", "b", "c", "d"]
    async with database.session() as session:
        question = Question(
            course_id=course.id,
            title=f"Q{next(_counter)}",
            content="What is it?",
            type=type,
            options=options,
            correct_answer=correct_answer,
            tolerance=tolerance,
            points=points,
            explanation=explanation,
            status=status,
        )
        session.add(question)
        await session.commit()
    return question


async def make_assignment(
    database: Database,
    week: Week,
    questions: Sequence[Question] = (),
    *,
    type: AssignmentType = AssignmentType.PRACTICE,
    published: bool = True,
    start_date: datetime | None = None,
    due_date: datetime | None = None,
    late_penalty_percent: float = 0.0,
    max_attempts: int | None = None,
) -> Assignment:
    async with database.session() as session:
        assignment = Assignment(
            course_id=week.course_id,
            week_id=week.id,
            title=f"Assignment {next(_counter)}",
            type=type,
            start_date=start_date,
            due_date=due_date,
            late_penalty_percent=late_penalty_percent,
            max_attempts=max_attempts,
            is_published=published,
        )
        session.add(assignment)
        await session.flush()
        for position, question in enumerate(questions):
            session.add(
                AssignmentQuestion(
                    assignment_id=assignment.id, question_id=question.id, position=position
                )
            )
        await session.commit()
    return assignment
