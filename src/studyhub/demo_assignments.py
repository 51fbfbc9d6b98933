"""Demo assignments for `studyhub seed`: a practice quiz (with a few graded submissions) and a
graded assignment due next week, on the SE101 demo course."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.assignments.grading import Gradable, grade
from studyhub.assignments.models import (
    Assignment,
    AssignmentQuestion,
    AssignmentType,
    Question,
    QuestionStatus,
    QuestionType,
    Submission,
    SubmissionStatus,
)
from studyhub.core.db import utcnow
from studyhub.courses.models import Course, Week
from studyhub.progress.rollups import RollupRepository
from studyhub.users.models import User

QUESTIONS: list[dict[str, Any]] = [
    {
        "content": "Which model finishes each phase before the next begins?",
        "type": QuestionType.MCQ,
        "options": ["Scrum", "Waterfall", "Kanban"],
        "correct_answer": 1,
        "explanation": "Waterfall is sequential: requirements, design, build, test, deploy.",
    },
    {
        "content": "Which are agile frameworks?",
        "type": QuestionType.MSQ,
        "options": ["Scrum", "Waterfall", "Kanban", "V-Model"],
        "correct_answer": [0, 2],
        "explanation": "Scrum and Kanban are agile; Waterfall and the V-Model are plan-driven.",
    },
    {
        "content": "A 2-week sprint has how many working days?",
        "type": QuestionType.NUMERIC,
        "options": [],
        "correct_answer": 10,
        "tolerance": 0,
        "explanation": "Five working days a week, two weeks.",
    },
]
SUBMISSIONS = {"student": {0: 1, 1: [0, 2], 2: 10}, "student2": {0: 0, 1: [0], 2: 10}}


async def seed_assignments(session: AsyncSession, course_code: str = "SE101") -> bool:
    """Create the demo assignments once; False when the course is missing or already has them."""
    course = (
        await session.execute(select(Course).where(Course.code == course_code))
    ).scalar_one_or_none()
    if course is None:
        return False
    if await session.scalar(select(Assignment.id).where(Assignment.course_id == course.id)):
        return False
    weeks = list(
        (
            await session.execute(
                select(Week).where(Week.course_id == course.id).order_by(Week.number)
            )
        ).scalars()
    )
    if len(weeks) < 2:
        return False
    now = utcnow()
    questions = []
    for spec in QUESTIONS:
        question = Question(
            course_id=course.id,
            week_id=weeks[0].id,
            title=spec["content"][:60],
            status=QuestionStatus.ACTIVE,
            points=1.0,
            **spec,
        )
        session.add(question)
        questions.append(question)
    practice = Assignment(
        course_id=course.id,
        week_id=weeks[0].id,
        title="Lifecycle quiz",
        description="<p>Practice: answers unlock after your first try.</p>",
        type=AssignmentType.PRACTICE,
        start_date=now - timedelta(days=7),
        due_date=None,
        late_penalty_percent=0,
        max_attempts=None,
        is_published=True,
    )
    graded = Assignment(
        course_id=course.id,
        week_id=weeks[1].id,
        title="Requirements check",
        description="<p>Graded; 20 % off when late.</p>",
        type=AssignmentType.GRADED,
        start_date=now - timedelta(days=1),
        due_date=now + timedelta(days=7),
        late_penalty_percent=20,
        max_attempts=2,
        is_published=True,
    )
    session.add_all([practice, graded])
    await session.flush()
    for assignment in (practice, graded):
        for position, question in enumerate(questions):
            session.add(
                AssignmentQuestion(
                    assignment_id=assignment.id, question_id=question.id, position=position
                )
            )
    users = {u.username: u for u in (await session.execute(select(User))).scalars()}
    gradable = [Gradable(q.id, q.type, q.correct_answer, q.tolerance, q.points) for q in questions]
    for username, by_index in SUBMISSIONS.items():
        if username not in users:
            continue
        answers = {str(questions[i].id): value for i, value in by_index.items()}
        results = grade(gradable, answers)
        session.add(
            Submission(
                assignment_id=practice.id,
                user_id=users[username].id,
                attempt=1,
                answers=answers,
                results=[
                    {"question_id": r.question_id, "correct": r.correct, "points": r.points}
                    for r in results
                ],
                score=sum(r.points for r in results),
                max_score=float(len(questions)),
                status=SubmissionStatus.SUBMITTED,
                submitted_at=now - timedelta(days=2),
            )
        )
    await session.flush()
    await RollupRepository(session).refresh_course(course.id)  # the submissions count
    return True
