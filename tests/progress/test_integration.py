"""Progress as the rest of the API shows it: assignments count and complete by submission, the
outline carries a student's `completed` flags, and `/me/courses` reports the same figures."""

from __future__ import annotations

from typing import Any

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
