"""Progress as the rest of the API shows it: assignments count and complete by submission, the
outline carries a student's `completed` flags, and `/me/courses` reports the same figures."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from studyhub.core.db import Database
from studyhub.courses.models import Week
from studyhub.progress.repository import ProgressRepository
from tests.factories import make_assignment, make_lecture, make_week
from tests.progress.conftest import ProgressWorld, ago


async def _assignment(pw: ProgressWorld) -> dict[str, Any]:
    teacher = pw.headers["teacher"]
    question = await pw.client.post(
        pw.url("/questions"),
        json={"content": "1 + 1?", "type": "numeric", "correct_answer": 2, "status": "active"},
        headers=teacher,
    )
    assert question.status_code == 201, question.text
    outline = (await pw.client.get(pw.url(), headers=teacher)).json()
    week_id = outline["weeks"][0]["id"]
    assignment = await pw.client.post(
        pw.url(f"/weeks/{week_id}/assignments"),
        json={
            "title": "Check",
            "type": "practice",
            "is_published": True,
            "question_ids": [question.json()["id"]],
        },
        headers=teacher,
    )
    assert assignment.status_code == 201, assignment.text
    body: dict[str, Any] = assignment.json()
    body["question_id"] = question.json()["id"]
    return body


async def test_assignments_count_and_complete_with_a_submission(pw: ProgressWorld) -> None:
    before = await pw.progress()
    assignment = await _assignment(pw)
    with_assignment = await pw.progress()
    assert with_assignment["total_items"] == before["total_items"] + 1
    submitted = await pw.client.post(
        pw.url(f"/assignments/{assignment['id']}/submissions"),
        json={"answers": {str(assignment["question_id"]): 5}},  # wrong, still a submission
        headers=pw.headers["student"],
    )
    assert submitted.status_code == 201, submitted.text
    after = await pw.progress()
    assert after["completed_items"] == with_assignment["completed_items"] + 1


async def test_outline_and_my_courses_show_the_students_progress(pw: ProgressWorld) -> None:
    await pw.batch([pw.event("done-1", "complete", ago(minutes=5), lecture_id=pw.text.id)])
    outline = (await pw.client.get(pw.url(), headers=pw.headers["student"])).json()
    flags = {lec["id"]: lec["completed"] for week in outline["weeks"] for lec in week["lectures"]}
    assert flags == {pw.video.id: False, pw.text.id: True}
    # Another student's view of the same (cached) outline has their own flags.
    other = (await pw.client.get(pw.url(), headers=pw.headers["other"])).json()
    assert not any(lec["completed"] for week in other["weeks"] for lec in week["lectures"])
    # Staff see no per-student flags.
    staff = (await pw.client.get(pw.url(), headers=pw.headers["teacher"])).json()
    assert all(lec["completed"] is None for week in staff["weeks"] for lec in week["lectures"])

    mine = (await pw.client.get("/api/v1/me/courses", headers=pw.headers["student"])).json()
    (course,) = [c for c in mine["courses"] if c["id"] == pw.course.id]
    progress = await pw.progress()
    assert course["progress"] == {
        "completed_items": progress["completed_items"],
        "total_items": progress["total_items"],
        "percentage": progress["percentage"],
    }
    assert course["progress"]["completed_items"] == 1


async def test_catalog_reads_the_items_and_published_weeks_in_order(
    pw: ProgressWorld, database: Database
) -> None:
    """`ProgressRepository.catalog` reads weeks and items in one statement: the same items, in
    the same order, as `items`, and every published week once (an empty one too), in order."""
    week_3 = await make_week(database, pw.course, number=3)  # published, no items yet
    week_0 = await make_week(database, pw.course, number=0)  # before week 1
    await make_lecture(database, week_0, number=2)
    await make_lecture(database, week_0, number=1)
    await make_assignment(database, week_0)
    await make_assignment(database, week_3, published=False)
    async with database.session(write=False) as session:
        repository = ProgressRepository(session)
        items, weeks = await repository.catalog([pw.course.id])
        assert items == await repository.items([pw.course.id])
        published = await session.execute(
            select(Week.id, Week.number)
            .where(Week.course_id == pw.course.id, Week.is_published.is_(True))
            .order_by(Week.number)
        )
        assert [(w.week_id, w.number) for w in weeks] == [tuple(row) for row in published]
    assert [w.number for w in weeks] == [0, 1, 3]
    assert [(i.week_number, i.item_type) for i in items] == [
        (0, "lecture"),
        (0, "lecture"),
        (0, "assignment"),
        (1, "lecture"),
        (1, "lecture"),
    ]
    progress = await pw.progress()
    assert [w["week_number"] for w in progress["weeks"]] == [0, 1, 3]
    assert progress["weeks"][2]["total_items"] == 0


async def test_resume_is_the_open_lecture_viewed_last(pw: ProgressWorld) -> None:
    """The resume point comes with the item statuses (their lectures' positions)."""
    await pw.batch(
        [
            pw.event("v", "position", ago(minutes=9), position_seconds=100),
            pw.event("t", "view", ago(minutes=5), lecture_id=pw.text.id),
            pw.event("h", "position", ago(minutes=1), lecture_id=pw.hidden.id, position_seconds=5),
        ]
    )
    assert (await pw.progress())["resume"] == {"lecture_id": pw.text.id, "position_seconds": 0}
    await pw.batch([pw.event("t-done", "complete", ago(minutes=4), lecture_id=pw.text.id)])
    assert (await pw.progress())["resume"] == {"lecture_id": pw.video.id, "position_seconds": 100}
