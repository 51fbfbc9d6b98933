"""API.md §4 question bank: validation by type, filters, batch rows, QUESTION_IN_USE."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from studyhub.core.db import Database
from tests.assignments.conftest import World
from tests.factories import make_assignment, make_course, make_lecture, make_question, make_week

MCQ = {"content": "2 + 2?", "type": "mcq", "options": ["3", "4"], "correct_answer": 1}


async def test_create_get_update_delete(client: httpx.AsyncClient, world: World) -> None:
    staff = world.headers["ta"]
    body = {**MCQ, "title": "Sum", "points": 2, "week_id": world.week.id}
    created = await client.post(world.url("/questions"), json=body, headers=staff)
    assert created.status_code == 201, created.text
    question = created.json()
    assert created.headers["location"].endswith(f"/questions/{question['id']}")
    assert (question["correct_answer"], question["points"], question["status"]) == (1, 2, "draft")

    url = world.url(f"/questions/{question['id']}")
    assert (await client.get(url, headers=staff)).json()["title"] == "Sum"
    patched = await client.patch(url, json={"correct_answer": 0, "explanation": "x"}, headers=staff)
    assert patched.status_code == 200, patched.text
    assert (patched.json()["correct_answer"], patched.json()["explanation"]) == (0, "x")
    bad = await client.patch(url, json={"correct_answer": 5}, headers=staff)
    assert (bad.status_code, list(bad.json()["details"])) == (400, ["correct_answer"])

    assert (await client.delete(url, headers=staff)).status_code == 204
    assert (await client.get(url, headers=staff)).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**MCQ, "correct_answer": 2}, "correct_answer"),
        ({**MCQ, "correct_answer": True}, "correct_answer"),
        ({**MCQ, "correct_answer": [1]}, "correct_answer"),
        ({**MCQ, "options": ["only"]}, "correct_answer"),
        ({**MCQ, "type": "msq", "correct_answer": []}, "correct_answer"),
        ({**MCQ, "type": "msq", "correct_answer": [1, 1]}, "correct_answer"),
        ({**MCQ, "type": "msq", "correct_answer": [0, 2]}, "correct_answer"),
        ({**MCQ, "type": "numeric", "options": [], "correct_answer": "4"}, "correct_answer"),
        ({**MCQ, "type": "numeric", "correct_answer": 4}, "correct_answer"),
        ({**MCQ, "tolerance": 0.5}, "tolerance"),
        ({**MCQ, "points": 0}, "points"),
        ({**MCQ, "type": "essay"}, "type"),
        ({**MCQ, "status": "gone"}, "status"),
        ({**MCQ, "surprise": 1}, "surprise"),
    ],
)
async def test_invalid_questions_are_400(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    response = await client.post(world.url("/questions"), json=body, headers=world.headers["ta"])
    assert response.status_code == 400, response.text
    assert field in response.json()["details"]


async def test_numeric_and_msq_are_normalised(client: httpx.AsyncClient, world: World) -> None:
    staff = world.headers["teacher"]
    msq = await client.post(
        world.url("/questions"),
        json={**MCQ, "type": "msq", "options": ["a", "b", "c"], "correct_answer": [2, 0]},
        headers=staff,
    )
    assert msq.json()["correct_answer"] == [0, 2]
    numeric = await client.post(
        world.url("/questions"),
        json={"content": "pi?", "type": "numeric", "correct_answer": 3.14, "tolerance": 0.01},
        headers=staff,
    )
    assert numeric.status_code == 201, numeric.text
    assert (numeric.json()["correct_answer"], numeric.json()["tolerance"]) == (3.14, 0.01)


async def test_week_and_lecture_must_belong_to_the_course(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    other = await make_course(database, world.teacher)
    other_week = await make_week(database, other)
    other_lecture = await make_lecture(database, other_week)
    staff = world.headers["teacher"]
    for extra, field in (
        ({"week_id": other_week.id}, "week_id"),
        ({"lecture_id": other_lecture.id}, "lecture_id"),
        ({"week_id": world.draft_week.id, "lecture_id": world.lecture.id}, "lecture_id"),
    ):
        response = await client.post(world.url("/questions"), json={**MCQ, **extra}, headers=staff)
        assert (response.status_code, list(response.json()["details"])) == (400, [field])
    ok = await client.post(
        world.url("/questions"), json={**MCQ, "lecture_id": world.lecture.id}, headers=staff
    )
    assert ok.status_code == 201


async def test_list_filters_and_pagination(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    from studyhub.assignments.models import QuestionStatus, QuestionType

    await make_question(database, world.course)
    await make_question(database, world.course, status=QuestionStatus.DRAFT)
    await make_question(database, world.course, type=QuestionType.NUMERIC, correct_answer=3)
    other = await make_course(database, world.teacher)
    await make_question(database, other)
    staff = world.headers["ta"]
    everything = await client.get(world.url("/questions"), headers=staff)
    assert everything.json()["pagination"]["total"] == 3
    numeric = await client.get(world.url("/questions?type=numeric"), headers=staff)
    assert [q["type"] for q in numeric.json()["questions"]] == ["numeric"]
    drafts = await client.get(world.url("/questions?status=draft"), headers=staff)
    assert drafts.json()["pagination"]["total"] == 1
    paged = await client.get(world.url("/questions?per_page=2&page=2"), headers=staff)
    assert len(paged.json()["questions"]) == 1
    assert 'rel="prev"' in paged.headers["link"]
    assert (
        await client.get(world.url("/questions?per_page=101"), headers=staff)
    ).status_code == 400


async def test_batch_reports_each_row(client: httpx.AsyncClient, world: World) -> None:
    rows = [MCQ, {**MCQ, "correct_answer": 9}, {"content": "n", "type": "numeric"}, MCQ, 7]
    response = await client.post(
        world.url("/questions/batch"), json={"questions": rows[:4]}, headers=world.headers["ta"]
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["failed"]) == (2, 2)
    assert [r["status"] for r in body["results"]] == ["created", "error", "error", "created"]
    assert "correct_answer" in body["results"][1]["error"]["details"]
    listed = await client.get(world.url("/questions"), headers=world.headers["ta"])
    assert listed.json()["pagination"]["total"] == 2
    too_many = await client.post(
        world.url("/questions/batch"), json={"questions": [MCQ] * 501}, headers=world.headers["ta"]
    )
    assert too_many.status_code == 400


async def test_question_in_published_assignment_is_locked(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    question = await make_question(database, world.course)
    draft_only = await make_question(database, world.course)
    await make_assignment(database, world.week, [question], published=True)
    await make_assignment(database, world.week, [draft_only], published=False)
    staff = world.headers["teacher"]
    url = world.url(f"/questions/{question.id}")
    for response in (
        await client.delete(url, headers=staff),
        await client.patch(url, json={"correct_answer": 0}, headers=staff),
        await client.patch(url, json={"points": 5}, headers=staff),
    ):
        assert (response.status_code, response.json()["error"]) == (409, "QUESTION_IN_USE")
    cosmetic = await client.patch(url, json={"explanation": "Clearer"}, headers=staff)
    assert cosmetic.status_code == 200
    assert (
        await client.delete(world.url(f"/questions/{draft_only.id}"), headers=staff)
    ).status_code == 204


async def test_students_cannot_use_the_bank(client: httpx.AsyncClient, world: World) -> None:
    for name in ("student", "outsider"):
        response = await client.get(world.url("/questions"), headers=world.headers[name])
        assert response.status_code == 403
