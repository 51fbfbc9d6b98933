"""ASVS 5.0 V8 Authorization: object-level access (IDOR) on every nested path.

Every operation whose path has a course id and another id is found in the OpenAPI document. A user
allowed on course A who names an object of course B under A's path (and B's user the other way
round) must get 404 and change nothing; for a role that may not call the operation at all, the
answer must be the same as for an id that exists nowhere (no existence oracle).

Covered elsewhere:
- tests/test_access_matrix.py::test_the_matrix (role x endpoint, 401/403/404 for every route)
- tests/courses/test_content.py::test_nested_objects_are_found_only_through_their_course
- tests/assignments/test_questions.py::test_week_and_lecture_must_belong_to_the_course
- tests/progress/test_events.py::test_batch_results_and_every_rejection_reason (unknown_lecture)
- tests/personal/test_personal.py::test_others_get_404_for_everything
- tests/auth/test_revocation.py::test_sessions_list_and_revoke (another user's session is a 404)
- tests/progress/test_staff.py::test_staff_views_are_for_staff
- tests/assignments/test_submissions.py::test_students_never_see_answers_early
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from studyhub.core.config import Settings
from studyhub.core.db import Database
from tests.security.bodies import valid_body
from tests.security.world import API, Operation, Side, build_side, fill, operations

MISSING = 2**31 - 1
STUDENT_ONLY = {"submissions-create", "progress-lecture-event", "progress-lecture-uncomplete"}


def _nested(app: FastAPI) -> list[Operation]:
    ops = [
        op for op in operations(app) if "course_id" in op.path_params and len(op.path_params) >= 2
    ]
    assert len(ops) >= 25, "the OpenAPI walk found too few nested operations"
    return ops


async def _request(
    client: httpx.AsyncClient, op: Operation, url: str, side: Side, headers: dict[str, str]
) -> httpx.Response:
    kwargs: dict[str, Any] = {"headers": headers}
    if op.json_schema is not None:
        kwargs["json"] = valid_body(op.operation_id, side)
    elif "multipart/form-data" in op.media_types:
        kwargs["files"] = {"file": ("notes.txt", b"replacement\n", "text/plain")}
    return await client.request(op.method, url, **kwargs)


async def _state(client: httpx.AsyncClient, side: Side) -> dict[str, Any]:
    """What B's teacher sees of B: nothing done through A may change it."""
    teacher = side.headers["teacher"]
    base = f"{API}/courses/{side.course.id}"
    state: dict[str, Any] = {}
    for key, path in {
        "course": "",
        "lecture": f"/lectures/{side.lecture.id}",
        "question": f"/questions/{side.question_id}",
        "assignment": f"/assignments/{side.assignment_id}",
        "submissions": f"/assignments/{side.assignment_id}/submissions",
        "enrollments": "/enrollments",
        "file": f"/lectures/{side.lecture.id}/file",
    }.items():
        response = await client.get(base + path, headers=teacher)
        assert response.status_code == 200, (key, response.text)
        state[key] = response.text if key == "file" else response.json()
    return state


async def test_objects_of_another_course_are_404_through_this_courses_path(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    a = await build_side(database, settings, client, "ia")
    b = await build_side(database, settings, client, "ib")
    before = {"a": await _state(client, a), "b": await _state(client, b)}
    failures: list[str] = []
    checked = 0
    # DELETEs last, so a wrongly allowed delete cannot hide a later read.
    for op in sorted(_nested(app), key=lambda op: op.method == "DELETE"):
        others = [p for p in op.path_params if p != "course_id"]
        for here, there in ((a, b), (b, a)):
            for role in ("teacher", "ta", "student"):
                headers = here.headers[role]
                foreign = fill(op.path, {**here.ids, **{p: there.ids[p] for p in others}})
                missing = fill(op.path, {**here.ids, **dict.fromkeys(others, MISSING)})
                got = await _request(client, op, foreign, here, headers)
                baseline = await _request(client, op, missing, here, headers)
                checked += 1
                if got.status_code < 300:
                    failures.append(
                        f"{op.method} {op.path} as {here.name} {role}: {got.status_code}"
                    )
                elif (got.status_code, got.json()["error"]) != (
                    baseline.status_code,
                    baseline.json()["error"],
                ):
                    failures.append(
                        f"{op.method} {op.path} as {here.name} {role}: foreign id "
                        f"{got.status_code} {got.json()['error']} but missing id "
                        f"{baseline.status_code} {baseline.json()['error']}"
                    )
                elif (
                    role == "teacher"
                    and got.status_code != 404
                    and op.operation_id not in STUDENT_ONLY
                ):
                    # The course's teacher may call every course-scoped operation but these.
                    failures.append(
                        f"{op.method} {op.path} as {here.name} teacher: {got.status_code}"
                    )
                if there.course.code in got.text:
                    failures.append(f"{op.method} {op.path}: the other course named in the answer")
    assert checked >= 150
    assert not failures, "\n".join(failures)
    after = {"a": await _state(client, a), "b": await _state(client, b)}
    assert after == before, "an object of one course changed through the other's path"


async def test_student_only_operations_hide_other_courses_objects(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    """Submitting and recording progress: the course's own students, B's objects are 404."""
    a = await build_side(database, settings, client, "sa")
    b = await build_side(database, settings, client, "sb")
    student = a.headers["student"]
    base = f"{API}/courses/{a.course.id}"
    submit = await client.post(
        f"{base}/assignments/{b.assignment_id}/submissions",
        json={"answers": {str(b.question_id): 1}},
        headers=student,
    )
    assert submit.status_code == 404, submit.text
    event = await client.post(
        f"{base}/lectures/{b.lecture.id}/progress", json={"state": "completed"}, headers=student
    )
    assert event.status_code == 404, event.text
    undo = await client.delete(
        f"{base}/lectures/{b.lecture.id}/progress/completion", headers=student
    )
    assert undo.status_code == 404, undo.text
    answers = await client.get(f"{base}/assignments/{b.assignment_id}/answers", headers=student)
    assert answers.status_code == 404, answers.text
    # Nothing reached B: its student's submissions list still holds only their own.
    mine = await client.get(
        f"{API}/courses/{b.course.id}/assignments/{b.assignment_id}/submissions",
        headers=b.headers["teacher"],
    )
    assert {s["user_id"] for s in mine.json()["submissions"]} == {b.users["student"].id}


async def test_ids_in_bodies_must_belong_to_the_course(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    """Ids named in a body (questions of an assignment, a target week) are objects too."""
    a = await build_side(database, settings, client, "ba")
    b = await build_side(database, settings, client, "bb")
    teacher = a.headers["teacher"]
    base = f"{API}/courses/{a.course.id}"
    set_questions = await client.put(
        f"{base}/assignments/{a.assignment_id}/questions",
        json={"question_ids": [b.question_id]},
        headers=teacher,
    )
    assert set_questions.status_code in {400, 404}, set_questions.text
    created = await client.post(
        f"{base}/weeks/{a.week.id}/assignments",
        json={"title": "x", "type": "practice", "question_ids": [b.question_id]},
        headers=teacher,
    )
    assert created.status_code in {400, 404}, created.text
    moved = await client.patch(
        f"{base}/assignments/{a.assignment_id}", json={"week_id": b.week.id}, headers=teacher
    )
    assert moved.status_code in {400, 404}, moved.text
    assignment = await client.get(f"{base}/assignments/{a.assignment_id}", headers=teacher)
    assert assignment.json()["week_id"] == a.week.id
    assert [q["id"] for q in assignment.json()["questions"]] == [a.question_id]
    question = await client.patch(
        f"{base}/questions/{a.question_id}", json={"lecture_id": b.lecture.id}, headers=teacher
    )
    assert question.status_code in {400, 404}, question.text
    # A personal folder cannot be tied to a course its owner cannot read.
    folder = await client.post(
        f"{API}/personal/folders",
        json={"name": "mine", "course_id": b.course.id},
        headers=a.headers["student"],
    )
    assert folder.status_code in {400, 404}, folder.text
    assert str(b.course.code) not in folder.text


async def test_students_see_only_their_own_submissions_and_progress(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    a = await build_side(database, settings, client, "pa")
    base = f"{API}/courses/{a.course.id}"
    student, other = a.headers["student2"], a.users["student"]
    url = f"{base}/assignments/{a.assignment_id}/submissions"
    for query in ("", f"?user_id={other.id}"):
        listed = await client.get(url + query, headers=student)
        assert listed.status_code == 200, listed.text
        assert listed.json()["submissions"] == [], f"another student's submission via {query!r}"
    for path in (
        f"/progress/students/{other.id}",
        "/progress/students",
        "/progress/summary",
        "/enrollments",
    ):
        response = await client.get(base + path, headers=student)
        assert response.status_code in {403, 404}, (path, response.status_code)
        assert other.username not in response.text
    own = await client.get(f"{base}/progress", headers=student)
    assert own.json()["user_id"] == a.users["student2"].id
    # A query parameter naming another user changes nothing for a student.
    spoofed = await client.get(f"{base}/progress?user_id={other.id}", headers=student)
    assert spoofed.status_code in {200, 400}
    if spoofed.status_code == 200:
        assert spoofed.json()["user_id"] == a.users["student2"].id
    me = await client.get(f"{API}/me/progress?user_id={other.id}", headers=student)
    assert me.status_code in {200, 400}
