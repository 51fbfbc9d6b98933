"""Capacity holds under concurrent requests (API.md §5), on SQLite and PostgreSQL alike.

Everyone logs in before the race, so the race is only the enrollments themselves."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from studyhub.core.db import Database
from studyhub.users.models import User, UserRole
from tests.enrollments.checks import active_students, seat_count
from tests.factories import make_course, make_user
from tests.helpers import auth_headers


async def _students(
    client: httpx.AsyncClient, database: Database, count: int
) -> list[tuple[User, dict[str, str]]]:
    users = [await make_user(database) for _ in range(count)]
    return [(user, await auth_headers(client, user.username)) for user in users]


def _outcome(response: httpx.Response) -> tuple[int, str | None]:
    error = response.json().get("error") if response.status_code >= 400 else None
    return response.status_code, error


async def test_thirty_students_race_for_twenty_seats(
    client: httpx.AsyncClient, database: Database
) -> None:
    teacher = await make_user(database, role=UserRole.TEACHER)
    course = await make_course(database, teacher, max_students=20)
    students = await _students(client, database, 30)
    url = f"/api/v1/courses/{course.id}/enroll"

    responses = await asyncio.gather(*(client.post(url, headers=h) for _, h in students))

    outcomes = Counter(_outcome(r) for r in responses)
    assert outcomes == {(201, None): 20, (409, "COURSE_FULL"): 10}, outcomes
    assert await seat_count(database, course.id) == 20
    assert await active_students(database, course.id) == 20


async def test_one_student_racing_themselves_enrolls_once(
    client: httpx.AsyncClient, database: Database
) -> None:
    teacher = await make_user(database, role=UserRole.TEACHER)
    course = await make_course(database, teacher, max_students=5)
    [(_, headers)] = await _students(client, database, 1)
    url = f"/api/v1/courses/{course.id}/enroll"

    responses = await asyncio.gather(*(client.post(url, headers=headers) for _ in range(8)))

    outcomes = Counter(_outcome(r) for r in responses)
    assert outcomes == {(201, None): 1, (409, "ALREADY_ENROLLED"): 7}, outcomes
    assert await seat_count(database, course.id) == 1  # the losers' seats were given back


async def test_staff_adds_and_batches_race_self_enrollment(
    client: httpx.AsyncClient, database: Database
) -> None:
    teacher = await make_user(database, role=UserRole.TEACHER)
    course = await make_course(database, teacher, max_students=10)
    teacher_headers = await auth_headers(client, teacher.username)
    selfish = await _students(client, database, 12)
    batched = [await make_user(database) for _ in range(8)]
    singles = [await make_user(database) for _ in range(4)]
    base = f"/api/v1/courses/{course.id}"
    # Some users are named both by the batch and by a self-enrollment: only one may win each.
    batch_body = {
        "enrollments": [{"user_id": u.id} for u in batched]
        + [{"user_id": u.id} for u, _ in selfish[:3]]
    }

    requests = [client.post(f"{base}/enroll", headers=h) for _, h in selfish]
    requests.append(
        client.post(f"{base}/enrollments/batch", json=batch_body, headers=teacher_headers)
    )
    requests += [
        client.post(f"{base}/enrollments", json={"user_id": u.id}, headers=teacher_headers)
        for u in singles
    ]
    responses = await asyncio.gather(*requests)

    assert all(r.status_code not in {500, 503} for r in responses), [r.text for r in responses]
    batch = responses[len(selfish)].json()
    singles_created = sum(r.status_code == 201 for r in responses[len(selfish) + 1 :])
    self_created = sum(r.status_code == 201 for r in responses[: len(selfish)])
    assert self_created + batch["created"] + singles_created == 10
    batch_errors = {r["error"]["error"] for r in batch["results"] if r["error"]}
    assert batch_errors <= {"COURSE_FULL", "ALREADY_ENROLLED"}
    for response in responses:
        if response.status_code != 200 and response.status_code >= 400:
            assert _outcome(response) in {(409, "COURSE_FULL"), (409, "ALREADY_ENROLLED")}
    assert await seat_count(database, course.id) == 10
    assert await active_students(database, course.id) == 10
