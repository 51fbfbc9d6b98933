"""`studyhub import-course`: one course export into the database, in the caller's transaction.

Nothing here commits: the command line owns the transaction, so a failure anywhere writes nothing.
File ids are only keys of in-memory maps; every row gets a database id of its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.assignments.models import (
    Assignment,
    AssignmentQuestion,
    AssignmentType,
    Question,
    QuestionStatus,
    QuestionType,
)
from studyhub.assignments.schemas import QuestionCreate
from studyhub.core.sanitize import sanitize_html
from studyhub.courses.models import ContentType, Course, CourseStatus, EnrollmentType, Lecture, Week
from studyhub.enrollments.models import CourseRole, Enrollment, EnrollmentStatus
from studyhub.importer.schemas import CourseFile, FileAssignment, FileLecture, FileQuestion
from studyhub.users.models import User

CODE = re.compile(r"^[A-Z0-9_-]{2,20}$")
BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
GRADABLE = {"MCQ": QuestionType.MCQ, "MSQ": QuestionType.MSQ, "NUMERIC": QuestionType.NUMERIC}
Tick = Callable[[], None]


class ImportFailed(Exception):
    """The file cannot be imported; nothing was written. `exit_code` for the command line."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class ImportReport:
    course_id: int = 0
    code: str = ""
    day_shift: int = 0
    in_file: dict[str, int] = field(default_factory=dict)
    imported: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _plain(text: str | None, limit: int | None = None) -> str:
    """Markdown bold markers stripped; trimmed to `limit` characters."""
    cleaned = BOLD.sub(r"\1", text or "").strip()
    return cleaned[:limit] if limit else cleaned


def _place(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load(path: Path) -> CourseFile:
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFailed(f"cannot read {path}: {exc}") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImportFailed(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from exc
    try:
        parsed = CourseFile.model_validate(data)
    except ValidationError as exc:
        problems = [f"  {_place(e['loc'])}: {e['msg']}" for e in exc.errors()[:20]]
        more = exc.error_count() - len(problems)
        tail = [f"  … and {more} more"] if more > 0 else []
        raise ImportFailed(
            "\n".join([f"{path} is not a course export:", *problems, *tail])
        ) from exc
    _check_references(parsed)
    return parsed


def all_lectures(data: CourseFile) -> list[tuple[str, FileLecture]]:
    """Top-level and nested lectures (some exports use both), each once, with its place."""
    found: dict[int, tuple[str, FileLecture]] = {}
    for i, week in enumerate(data.weeks):
        for j, lecture in enumerate(week.lectures):
            if lecture.week_id is None:
                lecture.week_id = week.week_id
            found.setdefault(lecture.lecture_id, (f"weeks[{i}].lectures[{j}]", lecture))
    for i, lecture in enumerate(data.lectures):
        found.setdefault(lecture.lecture_id, (f"lectures[{i}]", lecture))
    return list(found.values())


def _check_references(data: CourseFile) -> None:
    if not CODE.match(data.course.code.strip().upper()):
        raise ImportFailed("course.code: must be 2-20 of A-Z 0-9 _ -")
    week_ids: set[int] = set()
    numbers: set[int] = set()
    for i, week in enumerate(data.weeks):
        if week.week_id in week_ids:
            raise ImportFailed(f"weeks[{i}].week_id: duplicate week id {week.week_id}")
        if week.order in numbers:
            raise ImportFailed(f"weeks[{i}].order: duplicate week order {week.order}")
        week_ids.add(week.week_id)
        numbers.add(week.order)
    for place, lecture in all_lectures(data):
        if lecture.week_id not in week_ids:
            raise ImportFailed(f"{place}.week_id: no week {lecture.week_id} in the file")
    for i, assignment in enumerate(data.assignments):
        if assignment.week_id not in week_ids:
            raise ImportFailed(
                f"assignments[{i}].week_id: no week {assignment.week_id} in the file"
            )


def day_shift(data: CourseFile, today: date) -> int:
    """Days to add so the earliest assignment date is today (relative spacing kept)."""
    dates = [d for a in data.assignments for d in (a.start_date, a.due_date) if d is not None]
    return (today - min(dates)).days if dates else 0


class CourseImporter:
    def __init__(self, session: AsyncSession, tick: Tick = lambda: None) -> None:
        self.session = session
        self.tick = tick

    async def run(
        self,
        data: CourseFile,
        *,
        publish: bool,
        keep_dates: bool,
        teacher: str | None = None,
        today: date | None = None,
    ) -> ImportReport:
        code = data.course.code.strip().upper()
        existing = await self.session.scalar(select(Course.id).where(Course.code == code))
        if existing is not None:
            raise ImportFailed(
                f"course {code} already exists (id {existing}); nothing imported", exit_code=3
            )
        teacher_id = await self._teacher_id(teacher)
        shift = 0 if keep_dates else day_shift(data, today or datetime.now(UTC).date())
        report = ImportReport(code=code, day_shift=shift)
        lectures = all_lectures(data)
        report.in_file = {
            "weeks": len(data.weeks),
            "lectures": len(lectures),
            "questions": len(data.questions),
            "assignments": len(data.assignments),
        }
        course = await self._course(data, code, publish, teacher_id, shift)
        report.course_id = course.id
        weeks = await self._weeks(data, course, publish)
        lecture_ids = await self._lectures(lectures, course, weeks, publish)
        question_ids = await self._questions(data.questions, course, weeks, lecture_ids, report)
        imported = await self._assignments(
            data.assignments, course, weeks, question_ids, shift, report
        )
        report.imported = {
            "weeks": len(weeks),
            "lectures": len(lecture_ids),
            "questions": len(question_ids),
            "assignments": imported,
        }
        return report

    async def _teacher_id(self, username: str | None) -> int | None:
        if username is None:
            return None
        user_id = await self.session.scalar(
            select(User.id).where(User.username == username.strip().lower())
        )
        if user_id is None:
            raise ImportFailed(f"--teacher: no user named {username!r}")
        return int(user_id)

    async def _course(
        self, data: CourseFile, code: str, publish: bool, teacher_id: int | None, shift: int
    ) -> Course:
        starts = [a.start_date for a in data.assignments if a.start_date]
        dues = [a.due_date for a in data.assignments if a.due_date]
        course = Course(
            code=code,
            name=_plain(data.course.title, 200),
            description=sanitize_html(_plain(data.course.description)),
            status=CourseStatus.PUBLISHED if publish else CourseStatus.DRAFT,
            instructor_id=teacher_id,
            enrollment_type=EnrollmentType.OPEN,
            start_date=min(starts) + timedelta(days=shift) if starts else None,
            end_date=max(dues) + timedelta(days=shift) if dues else None,
            enrollment_count=0,
        )
        self.session.add(course)
        await self.session.flush()
        if teacher_id is not None:
            self.session.add(
                Enrollment(
                    course_id=course.id,
                    user_id=teacher_id,
                    role=CourseRole.TEACHER,
                    status=EnrollmentStatus.ACTIVE,
                )
            )
        return course

    async def _weeks(self, data: CourseFile, course: Course, publish: bool) -> dict[int, Week]:
        weeks: dict[int, Week] = {}
        for item in data.weeks:
            summary = item.LLM_Summary.summary if item.LLM_Summary else None
            week = Week(
                course_id=course.id,
                number=item.order,
                title=_plain(item.title, 200),
                description=sanitize_html(_plain(summary)),
                is_published=publish,
            )
            self.session.add(week)
            weeks[item.week_id] = week
            self.tick()
        await self.session.flush()
        return weeks

    async def _lectures(
        self,
        lectures: list[tuple[str, FileLecture]],
        course: Course,
        weeks: dict[int, Week],
        publish: bool,
    ) -> dict[int, Lecture]:
        ordered = sorted(
            (lecture for _, lecture in lectures),
            key=lambda lec: (lec.week_id or 0, lec.order or 0, lec.lecture_id),
        )
        numbers: dict[int, int] = {}
        created: dict[int, Lecture] = {}
        for item in ordered:
            week = weeks[item.week_id or 0]
            numbers[week.id] = numbers.get(week.id, 0) + 1
            is_video = item.resource_type.lower() == "youtube" and (
                item.video_url or ""
            ).startswith(("http://", "https://"))
            pdf_name = item.resource_url or item.file_path
            lecture = Lecture(
                course_id=course.id,
                week_id=week.id,
                number=numbers[week.id],
                title=_plain(item.title, 200),
                description=f"Original file: {pdf_name}" if pdf_name and not is_video else "",
                content_type=ContentType.YOUTUBE if is_video else ContentType.PDF,
                url=item.video_url if is_video else None,
                body="",
                transcript=(item.content_transcript if is_video else item.content_extract) or "",
                duration_seconds=int(item.duration_minutes * 60) if item.duration_minutes else None,
                is_published=publish,
            )
            self.session.add(lecture)
            created[item.lecture_id] = lecture
            self.tick()
        await self.session.flush()
        return created

    async def _questions(
        self,
        items: list[FileQuestion],
        course: Course,
        weeks: dict[int, Week],
        lectures: dict[int, Lecture],
        report: ImportReport,
    ) -> dict[int, Question]:
        created: dict[int, Question] = {}
        for i, item in enumerate(items):
            self.tick()
            kind = GRADABLE.get(item.type.strip().upper())
            if kind is None:
                report.skipped.append(
                    f"questions[{i}] (id {item.question_id}): "
                    f"type {item.type} cannot be auto-graded"
                )
                continue
            lecture = lectures.get(item.lecture_id) if item.lecture_id is not None else None
            week = weeks.get(item.week_id) if item.week_id is not None else None
            week_id = lecture.week_id if lecture is not None else (week.id if week else None)
            status = (item.status or "active").lower()
            try:
                valid = QuestionCreate.model_validate(
                    {
                        "title": _plain(item.content, 80),
                        "content": item.content,
                        "type": kind,
                        "options": item.question_options or [],
                        "correct_answer": item.correct_answer,
                        "points": item.points,
                        "explanation": item.explanation or "",
                        "status": status if status in set(QuestionStatus) else "active",
                    }
                )
            except ValidationError as exc:
                reasons = "; ".join(f"{_place(e['loc'])}: {e['msg']}" for e in exc.errors())
                report.skipped.append(f"questions[{i}] (id {item.question_id}): {reasons}")
                continue
            question = Question(
                course_id=course.id,
                **valid.model_dump(exclude={"week_id", "lecture_id"}),
                week_id=week_id,
                lecture_id=lecture.id if lecture is not None else None,
            )
            self.session.add(question)
            created[item.question_id] = question
        await self.session.flush()
        return created

    async def _assignments(
        self,
        items: list[FileAssignment],
        course: Course,
        weeks: dict[int, Week],
        questions: dict[int, Question],
        shift: int,
        report: ImportReport,
    ) -> int:
        count = 0
        for i, item in enumerate(items):
            self.tick()
            try:
                kind = AssignmentType(item.type.strip().lower())
            except ValueError:
                report.skipped.append(
                    f"assignments[{i}] (id {item.assignment_id}): type {item.type} "
                    "cannot be auto-graded"
                )
                continue
            start = _at(item.start_date, shift, time(0, 0, 0))
            due = _at(item.due_date, shift, time(23, 59, 59))
            assignment = Assignment(
                course_id=course.id,
                week_id=weeks[item.week_id].id,
                title=_plain(item.title, 200),
                description=sanitize_html(_plain(item.description)),
                type=kind,
                start_date=start,
                due_date=due if not (start and due and due < start) else start,
                late_penalty_percent=0.0,
                is_published=item.is_published,
            )
            self.session.add(assignment)
            await self.session.flush()
            position = 0
            seen: set[int] = set()
            for qid in item.question_ids:
                question = questions.get(qid)
                if question is None or qid in seen:
                    if question is None:
                        report.notes.append(
                            f"assignments[{i}] (id {item.assignment_id}): question {qid} "
                            "not imported, left out"
                        )
                    continue
                seen.add(qid)
                self.session.add(
                    AssignmentQuestion(
                        assignment_id=assignment.id, question_id=question.id, position=position
                    )
                )
                position += 1
            count += 1
        await self.session.flush()
        return count


def _at(day: date | None, shift: int, at: time) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=shift), at, tzinfo=UTC)


def count_items(data: CourseFile) -> int:
    return len(data.weeks) + len(all_lectures(data)) + len(data.questions) + len(data.assignments)
