"""API.md §4 submissions: grading over HTTP, attempts (also concurrent), late penalty,
idempotent retries, the reveal policy, and that students never see answers early."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from studyhub.assignments.models import Assignment, AssignmentType, Question, QuestionType
from studyhub.core.db import Database
from tests.assignments.conftest import World
from tests.factories import make_assignment, make_question

PAST = datetime.now(UTC) - timedelta(days=1)
FUTURE = datetime.now(UTC) + timedelta(days=1)


async def _questions(database: Database, world: World) -> list[Question]:
    return [
        await make_question(database, world.course, correct_answer=2, points=2),
        await make_question(
            database, world.course, type=QuestionType.MSQ, correct_answer=[0, 3], points=3
        ),
        await make_question(
            database,
            world.course,
            type=QuestionType.NUMERIC,
            correct_answer=9.81,
            tolerance=0.05,
            points=5,
        ),
    ]


def _all_right(questions: list[Question]) -> dict[str, Any]:
    mcq, msq, num = questions
    return {str(mcq.id): 2, str(msq.id): [3, 0], str(num.id): 9.8}


async def _submit(
    client: httpx.AsyncClient, world: World, assignment: Assignment, answers: Any, **headers: str
) -> httpx.Response:
    return await client.post(
        world.url(f"/assignments/{assignment.id}/submissions"),
        json={"answers": answers},
        headers={**world.headers["student"], **headers},
    )


async def test_practice_grading_and_results(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    questions = await _questions(database, world)
    assignment = await make_assignment(database, world.week, questions)
    right = await _submit(client, world, assignment, _all_right(questions))
    assert right.status_code == 201, right.text
    body = right.json()
    assert (body["score"], body["max_score"], body["attempt"], body["status"]) == (
        10,
        10,
        1,
        "submitted",
    )
    assert [r["correct"] for r in body["results"]] == [True, True, True]
    mcq, msq, num = questions
    mixed = await _submit(
        client, world, assignment, {str(mcq.id): "2", str(msq.id): [0], str(num.id): 9.9}
    )
    assert (mixed.json()["score"], mixed.json()["attempt"]) == (0, 2)
    junk = await _submit(client, world, assignment, {str(mcq.id): {"x": [1]}, "oops": None})
    assert junk.status_code == 201 and junk.json()["score"] == 0
    assert (await _submit(client, world, assignment, [])).status_code == 400


async def test_graded_results_hidden_until_due(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    questions = await _questions(database, world)
    open_graded = await make_assignment(
        database, world.week, questions, type=AssignmentType.GRADED, due_date=FUTURE
    )
    response = await _submit(client, world, open_graded, _all_right(questions))
    assert (response.json()["score"], response.json()["results"]) == (10, None)
    answers = await client.get(
        world.url(f"/assignments/{open_graded.id}/answers"), headers=world.headers["student"]
    )
    assert (answers.status_code, answers.json()["error"]) == (403, "ANSWERS_NOT_AVAILABLE")
    staff = await client.get(
        world.url(f"/assignments/{open_graded.id}/submissions"), headers=world.headers["ta"]
    )
    assert staff.json()["submissions"][0]["results"] is not None

    closed = await make_assignment(
        database,
        world.week,
        questions,
        type=AssignmentType.GRADED,
        due_date=PAST,
        late_penalty_percent=50,
    )
    late = await _submit(client, world, closed, _all_right(questions))
    assert (late.json()["status"], late.json()["score"]) == ("late", 5)
    assert late.json()["results"] is not None  # the due date has passed
    key = await client.get(
        world.url(f"/assignments/{closed.id}/answers"), headers=world.headers["student"]
    )
    assert key.status_code == 200
    assert [a["correct_answer"] for a in key.json()["answers"]] == [2, [0, 3], 9.81]


async def test_practice_answers_after_first_submission(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    questions = await _questions(database, world)
    assignment = await make_assignment(database, world.week, questions)
    url = world.url(f"/assignments/{assignment.id}/answers")
    before = await client.get(url, headers=world.headers["student"])
    assert (before.status_code, before.json()["error"]) == (403, "ANSWERS_NOT_AVAILABLE")
    assert (await client.get(url, headers=world.headers["ta"])).status_code == 200
    await _submit(client, world, assignment, {})
    after = await client.get(url, headers=world.headers["student"])
    assert after.status_code == 200
    assert all(a["explanation"] for a in after.json()["answers"])


async def test_window_rules(client: httpx.AsyncClient, world: World, database: Database) -> None:
    not_yet = await make_assignment(database, world.week, start_date=FUTURE)
    closed = await make_assignment(database, world.week, due_date=PAST)
    draft = await make_assignment(database, world.week, published=False)
    in_draft_week = await make_assignment(database, world.draft_week)
    assert (await _submit(client, world, not_yet, {})).json()["error"] == "ASSIGNMENT_NOT_OPEN"
    assert (await _submit(client, world, closed, {})).json()["error"] == "ASSIGNMENT_CLOSED"
    assert (await _submit(client, world, draft, {})).status_code == 404
    assert (await _submit(client, world, in_draft_week, {})).status_code == 404


async def test_staff_and_outsiders_cannot_submit(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    assignment = await make_assignment(database, world.week)
    url = world.url(f"/assignments/{assignment.id}/submissions")
    for name in ("ta", "teacher", "admin", "outsider"):
        response = await client.post(url, json={"answers": {}}, headers=world.headers[name])
        assert response.status_code == 403, name
    assert (await client.post(url, json={"answers": {}})).status_code == 401


async def test_max_attempts(client: httpx.AsyncClient, world: World, database: Database) -> None:
    assignment = await make_assignment(database, world.week, max_attempts=2)
    for _ in range(2):
        assert (await _submit(client, world, assignment, {})).status_code == 201
    third = await _submit(client, world, assignment, {})
    assert (third.status_code, third.json()["error"]) == (409, "MAX_ATTEMPTS_REACHED")


async def test_concurrent_submissions_respect_max_attempts(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    assignment = await make_assignment(database, world.week, max_attempts=3)
    responses = await asyncio.gather(*(_submit(client, world, assignment, {}) for _ in range(10)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 3 + [409] * 7, [r.text for r in responses]
    assert sorted(r.json()["attempt"] for r in responses if r.status_code == 201) == [1, 2, 3]
    listed = await client.get(
        world.url(f"/assignments/{assignment.id}/submissions"), headers=world.headers["ta"]
    )
    assert listed.json()["pagination"]["total"] == 3


async def test_idempotent_retries(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    questions = await _questions(database, world)
    assignment = await make_assignment(database, world.week, questions, max_attempts=1)
    answers = _all_right(questions)
    first = await _submit(client, world, assignment, answers, **{"Idempotency-Key": "k-1"})
    again = await _submit(client, world, assignment, answers, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    other = await _submit(client, world, assignment, {}, **{"Idempotency-Key": "k-1"})
    assert (other.status_code, other.json()["error"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    fresh = await _submit(client, world, assignment, answers, **{"Idempotency-Key": "k-2"})
    assert fresh.json()["error"] == "MAX_ATTEMPTS_REACHED"


async def test_concurrent_retries_with_one_key_store_one_submission(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    assignment = await make_assignment(database, world.week)
    responses = await asyncio.gather(
        *(_submit(client, world, assignment, {}, **{"Idempotency-Key": "same"}) for _ in range(5))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1


async def test_submission_lists(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    from tests.factories import enroll, make_user

    other = await make_user(database)
    await enroll(database, world.course, other)
    from tests.helpers import auth_headers

    other_headers = await auth_headers(client, other.username)
    assignment = await make_assignment(database, world.week)
    url = world.url(f"/assignments/{assignment.id}/submissions")
    await _submit(client, world, assignment, {})
    await _submit(client, world, assignment, {})
    await client.post(url, json={"answers": {}}, headers=other_headers)
    mine = await client.get(url, headers=world.headers["student"])
    assert [s["attempt"] for s in mine.json()["submissions"]] == [2, 1]  # newest first
    assert {s["user_id"] for s in mine.json()["submissions"]} == {world.student.id}
    everyone = await client.get(url, headers=world.headers["ta"])
    assert everyone.json()["pagination"]["total"] == 3
    one = await client.get(f"{url}?user_id={other.id}", headers=world.headers["ta"])
    assert [s["user_id"] for s in one.json()["submissions"]] == [other.id]


def _leaks(value: Any, path: str = "") -> list[str]:
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in {"correct_answer", "explanation", "tolerance"}:
                found.append(f"{path}.{key}")
            found += _leaks(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _leaks(item, f"{path}[{index}]")
    return found


@pytest.mark.parametrize("kind", [AssignmentType.PRACTICE, AssignmentType.GRADED])
async def test_students_never_see_answers_early(
    client: httpx.AsyncClient, world: World, database: Database, kind: AssignmentType
) -> None:
    questions = await _questions(database, world)
    assignment = await make_assignment(database, world.week, questions, type=kind, due_date=FUTURE)
    student = world.headers["student"]
    base = world.url(f"/assignments/{assignment.id}")
    responses = [
        await client.get(world.url(), headers=student),
        await client.get(world.url("/weeks"), headers=student),
        await client.get(world.url(f"/weeks/{world.week.id}"), headers=student),
        await client.get(world.url("/assignments"), headers=student),
        await client.get(base, headers=student),
        await client.get(base + "/submissions", headers=student),
        await client.get(base + "/answers", headers=student),
    ]
    submitted = await _submit(client, world, assignment, {})
    responses += [
        submitted,
        await client.get(base, headers=student),
        await client.get(world.url("/assignments"), headers=student),
        await client.get(base + "/submissions", headers=student),
    ]
    for response in responses:
        assert response.status_code < 500
        assert _leaks(response.json()) == [], (response.request.url, _leaks(response.json()))
    if kind is AssignmentType.GRADED:
        assert submitted.json()["results"] is None
        assert (await client.get(base + "/answers", headers=student)).status_code == 403
    # Staff, of course, see them.
    staff = await client.get(base, headers=world.headers["ta"])
    assert _leaks(staff.json())
