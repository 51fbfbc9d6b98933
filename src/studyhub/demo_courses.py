"""Demo courses for `studyhub seed`: weeks, lectures of every type (with a generated PDF),
teachers, a TA, students and their enrollments. Idempotent by course code."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.core.db import utcnow
from studyhub.core.storage import FileKind, FileStore
from studyhub.courses.content import lecture_index_payload
from studyhub.courses.models import (
    ContentType,
    Course,
    CourseStatus,
    EnrollmentType,
    IndexStatus,
    Lecture,
    Week,
)
from studyhub.enrollments.models import CourseRole, Enrollment, EnrollmentStatus
from studyhub.outbox.models import SubjectType
from studyhub.outbox.repository import OutboxRepository
from studyhub.users.models import User


def demo_pdf(title: str, lines: list[str]) -> bytes:
    """A small, valid one-page PDF (no dependency needed for a demo file)."""
    text = "BT /F1 18 Tf 72 720 Td (" + _pdf_escape(title) + ") Tj ET\n"
    for number, line in enumerate(lines):
        text += f"BT /F1 12 Tf 72 {690 - 18 * number} Td ({_pdf_escape(line)}) Tj ET\n"
    stream = text.encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


@dataclass
class DemoLecture:
    title: str
    content_type: ContentType
    url: str | None = None
    body: str = ""
    transcript: str = ""
    duration_seconds: int | None = None
    pdf_lines: list[str] = field(default_factory=list)


@dataclass
class DemoCourse:
    code: str
    name: str
    description: str
    teacher: str
    status: CourseStatus = CourseStatus.PUBLISHED
    enrollment_type: EnrollmentType = EnrollmentType.OPEN
    max_students: int | None = None
    ta: str | None = None
    students: tuple[str, ...] = ()
    weeks: list[tuple[str, bool, list[DemoLecture]]] = field(default_factory=list)


DEMO_COURSES = [
    DemoCourse(
        code="SE101",
        name="Software Engineering",
        description="<p>Processes, requirements, design, testing and maintenance.</p>",
        teacher="teacher",
        ta="ta",
        students=("student", "student2"),
        max_students=40,
        weeks=[
            (
                "The software lifecycle",
                True,
                [
                    DemoLecture(
                        "Why software engineering?",
                        ContentType.YOUTUBE,
                        url="https://www.youtube.com/watch?v=O753uuutqH8",
                        transcript="Software engineering applies engineering discipline "
                        "to building software.",
                        duration_seconds=540,
                    ),
                    DemoLecture(
                        "Lifecycle models (slides)",
                        ContentType.PDF,
                        pdf_lines=[
                            "Waterfall, V-model, iterative, agile.",
                            "Each trades predictability for adaptability.",
                        ],
                    ),
                    DemoLecture(
                        "Reading: plan-driven vs agile",
                        ContentType.TEXT,
                        body="<h2>Plan-driven or agile?</h2><p>Plan-driven processes fix "
                        "scope early; agile ones fix time and let scope move.</p>",
                    ),
                ],
            ),
            (
                "Requirements",
                True,
                [
                    DemoLecture(
                        "Writing an SRS",
                        ContentType.TEXT,
                        body="<p>A Software Requirements Specification states <em>what"
                        "</em> the system must do, not how.</p>",
                    ),
                    DemoLecture(
                        "IEEE 830 summary",
                        ContentType.LINK,
                        url="https://en.wikipedia.org/wiki/Software_requirements_specification",
                    ),
                ],
            ),
            (
                "Design (draft)",
                False,
                [
                    DemoLecture(
                        "UML class diagrams", ContentType.TEXT, body="<p>Being written.</p>"
                    ),
                ],
            ),
        ],
    ),
    DemoCourse(
        code="DBMS201",
        name="Database Management Systems",
        description="<p>Relational model, SQL, normalisation and transactions.</p>",
        teacher="teacher2",
        students=("student3",),
        enrollment_type=EnrollmentType.OPEN,
        weeks=[
            (
                "The relational model",
                True,
                [
                    DemoLecture(
                        "Relations and keys",
                        ContentType.YOUTUBE,
                        url="https://www.youtube.com/watch?v=NvrpuBAMddw",
                        transcript="A relation is a set of tuples over named attributes.",
                        duration_seconds=720,
                    ),
                    DemoLecture(
                        "SQL cheat sheet",
                        ContentType.PDF,
                        pdf_lines=[
                            "SELECT ... FROM ... WHERE ...",
                            "JOIN, GROUP BY, HAVING, ORDER BY",
                        ],
                    ),
                ],
            ),
        ],
    ),
    DemoCourse(
        code="ML301",
        name="Machine Learning (in preparation)",
        description="<p>Not yet published.</p>",
        teacher="teacher",
        status=CourseStatus.DRAFT,
    ),
]


async def seed_courses(session: AsyncSession, files: FileStore) -> list[str]:
    """Create the demo courses that are missing; returns their codes."""
    users = {u.username: u for u in (await session.execute(select(User))).scalars()}
    created = []
    for demo in DEMO_COURSES:
        if await session.scalar(select(Course.id).where(Course.code == demo.code)) is not None:
            continue
        if demo.teacher not in users:
            continue
        await _create(session, files, demo, users)
        created.append(demo.code)
    return created


async def _create(
    session: AsyncSession, files: FileStore, demo: DemoCourse, users: dict[str, User]
) -> None:
    today = utcnow().date()
    students = [users[name] for name in demo.students if name in users]
    course = Course(
        code=demo.code,
        name=demo.name,
        description=demo.description,
        status=demo.status,
        instructor_id=users[demo.teacher].id,
        max_students=demo.max_students,
        enrollment_type=demo.enrollment_type,
        start_date=today - timedelta(days=14),
        end_date=today + timedelta(days=90),
        enrollment_count=len(students),
    )
    session.add(course)
    await session.flush()
    members = [(users[demo.teacher], CourseRole.TEACHER)]
    if demo.ta and demo.ta in users:
        members.append((users[demo.ta], CourseRole.TA))
    members += [(student, CourseRole.STUDENT) for student in students]
    for user, role in members:
        session.add(
            Enrollment(
                course_id=course.id, user_id=user.id, role=role, status=EnrollmentStatus.ACTIVE
            )
        )
    for week_number, (title, published, lectures) in enumerate(demo.weeks, start=1):
        week = Week(course_id=course.id, number=week_number, title=title, is_published=published)
        session.add(week)
        await session.flush()
        pdfs: list[Lecture] = []
        for number, spec in enumerate(lectures, start=1):
            lecture = Lecture(
                course_id=course.id,
                week_id=week.id,
                number=number,
                title=spec.title,
                content_type=spec.content_type,
                url=spec.url,
                body=spec.body,
                transcript=spec.transcript,
                duration_seconds=spec.duration_seconds,
                is_published=published,
            )
            if spec.pdf_lines:
                content = demo_pdf(spec.title, spec.pdf_lines)
                storage_name = uuid.uuid4().hex
                files.root.mkdir(parents=True, exist_ok=True)
                files.path(storage_name).write_bytes(content)
                lecture.file_name = f"{demo.code.lower()}-week{week_number}-{number}.pdf"
                lecture.file_size = len(content)
                lecture.file_media_type = "application/pdf"
                lecture.file_storage_name = storage_name
                lecture.index_status = IndexStatus.PENDING
                pdfs.append(lecture)
            session.add(lecture)
        await session.flush()
        # Queued like any upload: the relay indexes them once StudyIndexer is configured.
        outbox = OutboxRepository(session)
        for lecture in pdfs:
            outbox.enqueue_index(
                SubjectType.LECTURE,
                lecture.id,
                lecture_index_payload(
                    lecture.id, course.id, str(lecture.file_storage_name), FileKind.PDF
                ),
            )
    await session.flush()
