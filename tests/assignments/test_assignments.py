"""API.md §4 assignments: CRUD, dates, question lists, student visibility, the outline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from studyhub.assignments.models import AssignmentType, QuestionType
from studyhub.core.db import Database
from tests.assignments.conftest import World
from tests.factories import make_assignment, make_course, make_question


async def test_create_with_questions_and_dates(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    q1 = await make_question(database, world.course, points=2)
    q2 = await make_question(
        database, world.course, type=QuestionType.NUMERIC, correct_answer=4, points=3
    )
    body = {
        "title": "Quiz 1",
        "description": "<p>Read <b>first</b></p><script>alert(1)</script>",
        "type": "graded",
        "start_date": "2030-01-01",
        "due_date": "2030-01-07",
        "late_penalty_percent": 10,
        "max_attempts": 2,
        "question_ids": [q2.id, q1.id],
    }
    created = await client.post(
        world.url(f"/weeks/{world.week.id}/assignments"), json=body, headers=world.headers["ta"]
    )
    assert created.status_code == 201, created.text
    a = created.json()
    assert created.headers["location"].endswith(f"/assignments/{a['id']}")
    assert a["description"] == "<p>Read <b>first</b></p>"  # rich text is sanitised
    assert a["start_date"] == "2030-01-01T00:00:00Z"
    assert a["due_date"] == "2030-01-07T23:59:59Z"
    assert (a["max_score"], a["question_count"]) == (5, 2)
    assert [q["id"] for q in a["questions"]] == [q2.id, q1.id]
    assert a["questions"][0]["correct_answer"] == 4  # staff see answers

    url = world.url(f"/assignments/{a['id']}")
    reordered = await client.put(
        url + "/questions", json={"question_ids": [q1.id]}, headers=world.headers["teacher"]
    )
    assert [q["id"] for q in reordered.json()["questions"]] == [q1.id]
    assert reordered.json()["max_score"] == 2
    moved = await client.patch(
        url,
        json={"week_id": world.draft_week.id, "due_date": "2030-02-01T12:00:00+02:00"},
        headers=world.headers["teacher"],
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["week_id"], moved.json()["due_date"]) == (
        world.draft_week.id,
        "2030-02-01T10:00:00Z",
    )
    assert (await client.delete(url, headers=world.headers["ta"])).status_code == 204
    assert (await client.get(url, headers=world.headers["ta"])).status_code == 404


async def test_invalid_assignments_are_400(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    foreign = await make_question(database, await make_course(database, world.teacher))
    own = await make_question(database, world.course)
    url = world.url(f"/weeks/{world.week.id}/assignments")
    base = {"title": "A", "type": "practice"}
    for extra, field in (
        ({"question_ids": [foreign.id]}, "question_ids"),
        ({"question_ids": [own.id, own.id]}, "question_ids"),
        ({"late_penalty_percent": 101}, "late_penalty_percent"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"type": "project"}, "type"),
        ({"start_date": "2030-01-02", "due_date": "2030-01-01"}, "body"),
        ({"due_date": "tomorrow"}, "due_date"),
    ):
        response = await client.post(url, json={**base, **extra}, headers=world.headers["ta"])
        assert response.status_code == 400, (extra, response.text)
        assert field in response.json()["details"], (extra, response.json())
    missing_week = await client.post(
        world.url("/weeks/999999/assignments"), json=base, headers=world.headers["ta"]
    )
    assert missing_week.status_code == 404


async def test_students_see_published_assignments_in_published_weeks(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    visible = await make_assignment(database, world.week)
    draft = await make_assignment(database, world.week, published=False)
    hidden_week = await make_assignment(database, world.draft_week)
    student = world.headers["student"]
    listed = await client.get(world.url("/assignments"), headers=student)
    assert [a["id"] for a in listed.json()["assignments"]] == [visible.id]
    assert listed.json()["assignments"][0]["my_submission"] is None
    for other in (draft, hidden_week):
        response = await client.get(world.url(f"/assignments/{other.id}"), headers=student)
        assert response.status_code == 404
    staff = await client.get(world.url("/assignments"), headers=world.headers["ta"])
    assert staff.json()["pagination"]["total"] == 3
    drafts = await client.get(world.url("/assignments?status=draft"), headers=world.headers["ta"])
    assert {a["id"] for a in drafts.json()["assignments"]} == {draft.id}
    outsider = await client.get(world.url("/assignments"), headers=world.headers["outsider"])
    assert (outsider.status_code, outsider.json()["error"]) == (403, "NOT_ENROLLED")


async def test_student_status_filter(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    now = datetime.now(UTC)
    question = await make_question(database, world.course)
    done = await make_assignment(database, world.week, [question])
    overdue = await make_assignment(
        database, world.week, due_date=now - timedelta(days=1), late_penalty_percent=0
    )
    pending = await make_assignment(database, world.week, due_date=now + timedelta(days=1))
    student = world.headers["student"]
    submitted = await client.post(
        world.url(f"/assignments/{done.id}/submissions"), json={"answers": {}}, headers=student
    )
    assert submitted.status_code == 201
    for status, expected in (
        ("submitted", done.id),
        ("overdue", overdue.id),
        ("pending", pending.id),
    ):
        response = await client.get(world.url(f"/assignments?status={status}"), headers=student)
        assert [a["id"] for a in response.json()["assignments"]] == [expected], status
    mine = (await client.get(world.url("/assignments?status=submitted"), headers=student)).json()[
        "assignments"
    ][0]
    assert mine["my_submission"]["attempts"] == 1
    assert mine["completed"] is True
    bad = await client.get(world.url("/assignments?status=draft"), headers=student)
    assert bad.status_code == 400


async def test_outline_lists_assignments(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    question = await make_question(database, world.course, points=4)
    published = await make_assignment(database, world.week, [question], type=AssignmentType.GRADED)
    await make_assignment(database, world.week, published=False)
    student = await client.get(world.url(), headers=world.headers["student"])
    (week,) = student.json()["weeks"]
    assert [
        (a["id"], a["max_score"], a["question_count"], a["type"]) for a in week["assignments"]
    ] == [(published.id, 4, 1, "graded")]
    staff = await client.get(world.url(), headers=world.headers["ta"])
    assert sum(len(w["assignments"]) for w in staff.json()["weeks"]) == 2
    week_view = await client.get(world.url(f"/weeks/{world.week.id}"), headers=world.headers["ta"])
    assert len(week_view.json()["assignments"]) == 2


async def test_outline_refreshes_after_assignment_changes(
    client: httpx.AsyncClient, world: World
) -> None:
    student = world.headers["student"]
    assert (await client.get(world.url(), headers=student)).json()["weeks"][0]["assignments"] == []
    created = await client.post(
        world.url(f"/weeks/{world.week.id}/assignments"),
        json={"title": "New", "type": "practice", "is_published": True},
        headers=world.headers["ta"],
    )
    assert created.status_code == 201
    outline = (await client.get(world.url(), headers=student)).json()
    assert [a["title"] for a in outline["weeks"][0]["assignments"]] == ["New"]


async def test_questions_hidden_until_the_assignment_opens(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    question = await make_question(database, world.course)
    later = await make_assignment(
        database, world.week, [question], start_date=datetime.now(UTC) + timedelta(days=2)
    )
    response = await client.get(
        world.url(f"/assignments/{later.id}"), headers=world.headers["student"]
    )
    assert (response.json()["questions"], response.json()["question_count"]) == ([], 1)
