"""Staff views: the student table, one student, the summary; access; constant SQL."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from studyhub.core.db import Database
from studyhub.users.models import UserRole
from tests.courses.test_query_counts import counting
from tests.factories import enroll, make_user
from tests.helpers import auth_headers
from tests.progress.conftest import ProgressWorld, ago
from tests.progress.test_integration import _assignment


async def _table(pw: ProgressWorld, query: str = "", who: str = "teacher") -> dict[str, Any]:
    response = await pw.client.get(pw.url(f"/progress/students{query}"), headers=pw.headers[who])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_student_table_sorts_filters_and_searches(pw: ProgressWorld) -> None:
    await pw.batch(
        [
            pw.event("a", "complete", ago(minutes=5), lecture_id=pw.text.id),
            pw.event("b", "heartbeat", ago(minutes=4), active_seconds=90),
        ]
    )
    body = await _table(pw, "?sort=-percentage")
    rows = body["students"]
    assert [r["user"]["id"] for r in rows] == [pw.student.id, pw.other.id]
    assert rows[0]["percentage"] == 50.0 and rows[0]["state"] == "in_progress"
    assert rows[0]["active_seconds"] == 90
    assert rows[0]["average_score"] is None
    assert rows[1]["state"] == "not_started" and rows[1]["last_activity_at"] is None
    assert body["pagination"]["total"] == 2  # students only: no teacher, no TA
    ascending = await _table(pw, "?sort=percentage")
    assert [r["user"]["id"] for r in ascending["students"]] == [pw.other.id, pw.student.id]
    recent = await _table(pw, "?sort=-last_activity_at")
    assert recent["students"][0]["user"]["id"] == pw.student.id
    oldest = await _table(pw, "?sort=last_activity_at")
    assert oldest["students"][-1]["user"]["id"] == pw.other.id  # never active sorts last
    started = await _table(pw, "?state=not_started")
    assert [r["user"]["id"] for r in started["students"]] == [pw.other.id]
    assert (await _table(pw, "?state=completed"))["students"] == []
    found = await _table(pw, f"?search={pw.student.username.upper()}")
    assert [r["user"]["id"] for r in found["students"]] == [pw.student.id]
    paged = await _table(pw, "?per_page=1&page=2&sort=name", who="ta")
    assert len(paged["students"]) == 1 and paged["pagination"]["pages"] == 2
    for bad in ("?sort=email", "?state=lost", "?per_page=101"):
        response = await pw.client.get(
            pw.url(f"/progress/students{bad}"), headers=pw.headers["teacher"]
        )
        assert response.status_code == 400, bad


async def test_completed_filter(pw: ProgressWorld) -> None:
    await pw.batch(
        [
            pw.event("a", "complete", ago(minutes=5), lecture_id=pw.text.id),
            pw.event("b", "complete", ago(minutes=4)),
        ]
    )
    done = await _table(pw, "?state=completed")
    assert [r["user"]["id"] for r in done["students"]] == [pw.student.id]
    assert done["students"][0]["percentage"] == 100.0


async def test_one_student_with_item_detail(pw: ProgressWorld) -> None:
    await pw.batch([pw.event("a", "position", ago(minutes=5), position_seconds=60)])
    response = await pw.client.get(
        pw.url(f"/progress/students/{pw.student.id}"), headers=pw.headers["ta"]
    )
    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == pw.student.id
    assert [(i["id"], i["state"]) for i in body["items"]] == [
        (pw.video.id, "in_progress"),
        (pw.text.id, "not_started"),
    ]
    for user in (pw.outsider, pw.teacher):
        missing = await pw.client.get(
            pw.url(f"/progress/students/{user.id}"), headers=pw.headers["teacher"]
        )
        assert missing.status_code == 404


async def test_summary(pw: ProgressWorld) -> None:
    await pw.batch(
        [
            pw.event("a", "complete", ago(minutes=5), lecture_id=pw.text.id),
            pw.event("b", "complete", ago(minutes=4)),
        ]
    )
    await pw.batch([pw.event("c", "view", ago(days=10))], who="other")
    response = await pw.client.get(pw.url("/progress/summary"), headers=pw.headers["teacher"])
    assert response.status_code == 200
    body = response.json()
    assert body["enrolled"] == 2
    assert (body["not_started"], body["in_progress"], body["completed"]) == (0, 1, 1)
    assert body["mean_percentage"] == 50.0 and body["median_percentage"] == 50.0
    assert body["histogram"] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert body["inactive_7d"] == 1
    assert [(i["id"], i["completed_count"], i["completion_rate"]) for i in body["items"]] == [
        (pw.video.id, 1, 50.0),
        (pw.text.id, 1, 50.0),
    ]


async def test_staff_views_are_for_staff(pw: ProgressWorld) -> None:
    paths = ["/progress/students", f"/progress/students/{pw.student.id}", "/progress/summary"]
    for path in paths:
        # The course is published, so an outsider may know it exists: 403, not 404.
        for who, status in (("student", 403), ("outsider", 403), ("teacher", 200), ("ta", 200)):
            response = await pw.client.get(pw.url(path), headers=pw.headers[who])
            assert response.status_code == status, (path, who)
    own = await pw.client.get(pw.url("/progress"), headers=pw.headers["outsider"])
    assert own.status_code == 403 and own.json()["error"] == "NOT_ENROLLED"
    hidden = await pw.client.get(
        f"/api/v1/courses/{pw.foreign.course_id + 1000}/progress/summary",
        headers=pw.headers["teacher"],
    )
    assert hidden.status_code == 404


async def test_student_table_uses_a_constant_number_of_statements(
    app: FastAPI, pw: ProgressWorld, database: Database
) -> None:
    counts = {}
    for size in (3, 30):
        while True:
            total = (await _table(pw))["pagination"]["total"]
            if total >= size:
                break
            user = await make_user(database, role=UserRole.STUDENT)
            await enroll(database, pw.course, user)
            headers = await auth_headers(pw.client, user.username)
            response = await pw.client.post(
                "/api/v1/progress/batch",
                json={"events": [pw.event(f"s{user.id}", "complete", ago(minutes=1))]},
                headers=headers,
            )
            assert response.status_code == 200
        with counting(app) as statements:
            body = await _table(pw, "?per_page=100&sort=-percentage")
        assert len(body["students"]) == size
        with counting(app) as summary:
            response = await pw.client.get(
                pw.url("/progress/summary"), headers=pw.headers["teacher"]
            )
        assert response.json()["enrolled"] == size
        counts[size] = (len(statements), len(summary))
    assert counts[3] == counts[30], counts
    assert counts[30][0] <= 8, counts


async def test_average_score_is_the_mean_of_each_assignments_best_submission(
    pw: ProgressWorld,
) -> None:
    first, second = await _assignment(pw), await _assignment(pw)

    async def submit(assignment: dict[str, Any], answer: int, who: str) -> None:
        response = await pw.client.post(
            pw.url(f"/assignments/{assignment['id']}/submissions"),
            json={"answers": {str(assignment["question_id"]): answer}},
            headers=pw.headers[who],
        )
        assert response.status_code == 201, response.text

    await submit(first, 5, "student")  # wrong: 0 %
    await submit(first, 2, "student")  # right: the best, 100 %
    await submit(second, 5, "student")  # 0 %
    await submit(first, 5, "other")
    rows = {r["user"]["id"]: r for r in (await _table(pw, "?sort=name"))["students"]}
    assert rows[pw.student.id]["average_score"] == 50.0
    assert rows[pw.other.id]["average_score"] == 0.0
