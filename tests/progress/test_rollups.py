"""The maintained rollups (`progress/rollups.py`) always equal a recomputation from the source
rows: after progress events, submissions, and every write that changes what counts (publishing,
unpublishing, moving and deleting lectures, weeks and assignments). A write path that forgets
to refresh them fails here, and the staff table would show stale figures."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from studyhub.core.db import Database
from studyhub.progress.models import ProgressRollup
from studyhub.progress.rollups import rollup_select
from tests.progress.conftest import ProgressWorld, ago
from tests.progress.test_integration import _assignment


async def _assert_consistent(pw: ProgressWorld, database: Database) -> dict[int, int]:
    course_id = pw.course.id
    async with database.session(write=False) as session:
        stored = {
            (r.user_id, r.completed_items, r.last_activity_at, r.active_seconds)
            for r in await session.scalars(
                select(ProgressRollup).where(ProgressRollup.course_id == course_id)
            )
        }
        fresh = {
            (user_id, completed, last, active)
            for _, user_id, completed, last, active in await session.execute(
                rollup_select(by_user=False), {"course_ids": [course_id]}
            )
        }
    assert stored == fresh
    table = await pw.client.get(
        pw.url("/progress/students?per_page=100"), headers=pw.headers["teacher"]
    )
    assert table.status_code == 200, table.text
    return {row["user"]["id"]: row["completed_items"] for row in table.json()["students"]}


async def _patch(pw: ProgressWorld, path: str, body: dict[str, Any]) -> None:
    response = await pw.client.patch(pw.url(path), json=body, headers=pw.headers["teacher"])
    assert response.status_code == 200, response.text


async def _delete(pw: ProgressWorld, path: str) -> None:
    response = await pw.client.delete(pw.url(path), headers=pw.headers["teacher"])
    assert response.status_code == 204, response.text


async def test_rollups_follow_events_submissions_and_catalog_changes(
    pw: ProgressWorld, database: Database
) -> None:
    student, other = pw.student.id, pw.other.id
    at = ago(minutes=30)
    await pw.batch(
        [
            pw.event("s-1", "complete", at, lecture_id=pw.video.id),
            pw.event("s-2", "complete", at, lecture_id=pw.text.id),
        ]
    )
    await pw.batch([pw.event("o-1", "heartbeat", at, active_seconds=40)], who="other")
    assert await _assert_consistent(pw, database) == {student: 2, other: 0}

    assignment = await _assignment(pw)
    submitted = await pw.client.post(
        pw.url(f"/assignments/{assignment['id']}/submissions"),
        json={"answers": {str(assignment["question_id"]): 2}},
        headers=pw.headers["other"],
    )
    assert submitted.status_code == 201, submitted.text
    assert await _assert_consistent(pw, database) == {student: 2, other: 1}

    await _patch(pw, f"/lectures/{pw.text.id}", {"is_published": False})
    assert await _assert_consistent(pw, database) == {student: 1, other: 1}
    await _patch(pw, f"/lectures/{pw.text.id}", {"is_published": True})
    assert await _assert_consistent(pw, database) == {student: 2, other: 1}

    # Moved into the unpublished week: no longer counts.
    await _patch(pw, f"/lectures/{pw.text.id}", {"week_id": pw.in_draft_week.week_id})
    assert await _assert_consistent(pw, database) == {student: 1, other: 1}

    await _patch(pw, f"/assignments/{assignment['id']}", {"is_published": False})
    assert await _assert_consistent(pw, database) == {student: 1, other: 0}
    await _patch(pw, f"/assignments/{assignment['id']}", {"is_published": True})
    await _delete(pw, f"/assignments/{assignment['id']}")
    assert await _assert_consistent(pw, database) == {student: 1, other: 0}

    week_id = pw.video.week_id
    await _patch(pw, f"/weeks/{week_id}", {"is_published": False})
    assert await _assert_consistent(pw, database) == {student: 0, other: 0}
    await _patch(pw, f"/weeks/{week_id}", {"is_published": True})
    assert await _assert_consistent(pw, database) == {student: 1, other: 0}

    await _delete(pw, f"/lectures/{pw.video.id}")
    assert await _assert_consistent(pw, database) == {student: 0, other: 0}
    await _delete(pw, f"/weeks/{week_id}")
    await _assert_consistent(pw, database)
