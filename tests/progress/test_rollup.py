"""Course rollups: published-only denominators, the 90 % rule, completion stability, streaks."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update

from studyhub.core.db import Database
from studyhub.courses.models import Lecture
from studyhub.progress.rollup import streak
from tests.factories import make_lecture, make_week
from tests.progress.conftest import ProgressWorld, ago


async def test_only_published_items_of_published_weeks_count(pw: ProgressWorld) -> None:
    progress = await pw.progress()
    assert progress["total_items"] == 2  # not the unpublished lecture, not the draft week's
    assert progress["state"] == "not_started"
    assert progress["next_item"] == {"type": "lecture", "id": pw.video.id, "title": "Lecture 1"}
    assert [(w["week_number"], w["total_items"]) for w in progress["weeks"]] == [(1, 2)]
    await pw.batch([pw.event("t", "complete", ago(minutes=1), lecture_id=pw.text.id)])
    progress = await pw.progress()
    assert (progress["completed_items"], progress["percentage"]) == (1, 50.0)
    assert progress["state"] == "in_progress"


async def test_completing_an_item_that_is_later_unpublished_stops_counting(
    pw: ProgressWorld, database: Database
) -> None:
    await pw.batch([pw.event("t", "complete", ago(minutes=1), lecture_id=pw.text.id)])
    async with database.session() as session:
        await session.execute(
            update(Lecture).where(Lecture.id == pw.text.id).values(is_published=False)
        )
        await session.commit()
    progress = await pw.progress()
    assert (progress["completed_items"], progress["total_items"]) == (0, 1)


async def test_watching_ninety_percent_completes_the_video(pw: ProgressWorld) -> None:
    t0 = ago(minutes=30)
    body = await pw.batch(
        [
            pw.event("p1", "position", t0, position_seconds=300),
            pw.event("p2", "position", t0 + timedelta(minutes=5), position_seconds=539),
        ]
    )
    assert body["courses"][0]["completed_items"] == 0
    body = await pw.batch(
        [
            pw.event("p4", "position", t0 + timedelta(minutes=9), position_seconds=600),
            pw.event("p3", "position", t0 + timedelta(minutes=8), position_seconds=540),
        ]
    )
    course = body["courses"][0]
    assert course["completed_items"] == 1
    detail = await pw.client.get(
        pw.url(f"/progress/students/{pw.student.id}"), headers=pw.headers["teacher"]
    )
    video = detail.json()["items"][0]
    assert video["completed_at"] == (t0 + timedelta(minutes=8)).isoformat().replace("+00:00", "Z")
    # An uncomplete does not undo a watched completion.
    undone = await pw.client.delete(
        pw.url(f"/lectures/{pw.video.id}/progress/completion"), headers=pw.headers["student"]
    )
    assert undone.json()["state"] == "completed"


async def test_course_completed_at_is_kept_when_items_are_added(
    pw: ProgressWorld, database: Database
) -> None:
    t0 = ago(hours=1)
    body = await pw.batch(
        [
            pw.event("a", "complete", t0, lecture_id=pw.text.id),
            pw.event("b", "position", ago(minutes=20), position_seconds=600),
        ]
    )
    course = body["courses"][0]
    assert course["state"] == "completed"
    completed_at = course["completed_at"]
    assert completed_at is not None
    week = await make_week(database, pw.course, number=3)
    await make_lecture(database, week, number=1)
    progress = await pw.progress()
    assert (progress["completed_items"], progress["total_items"]) == (2, 3)
    assert progress["state"] == "in_progress"
    assert progress["completed_at"] == completed_at
    # Uncompleting the manual item keeps the record of the first completion too.
    await pw.client.delete(
        pw.url(f"/lectures/{pw.text.id}/progress/completion"), headers=pw.headers["student"]
    )
    assert (await pw.progress())["completed_at"] == completed_at


async def test_manual_complete_undo_and_redo_uses_event_times(pw: ProgressWorld) -> None:
    t0 = ago(hours=1)
    text = pw.text.id
    await pw.batch(
        [
            pw.event("c2", "complete", t0 + timedelta(minutes=20), lecture_id=text),
            pw.event("c1", "complete", t0, lecture_id=text),
        ]
    )
    await pw.batch([pw.event("u", "uncomplete", t0 + timedelta(minutes=10), lecture_id=text)])
    detail = await pw.client.get(
        pw.url(f"/progress/students/{pw.student.id}"), headers=pw.headers["teacher"]
    )
    item = detail.json()["items"][1]
    assert item["state"] == "completed"
    assert item["completed_at"] == (t0 + timedelta(minutes=20)).isoformat().replace("+00:00", "Z")


async def test_me_progress(pw: ProgressWorld) -> None:
    await pw.batch([pw.event("a", "heartbeat", ago(days=1), active_seconds=60)])
    await pw.batch([pw.event("b", "complete", ago(seconds=5), lecture_id=pw.text.id)])
    response = await pw.client.get("/api/v1/me/progress", headers=pw.headers["student"])
    assert response.status_code == 200
    body = response.json()
    assert [c["course_id"] for c in body["courses"]] == [pw.course.id]
    assert "weeks" not in body["courses"][0]
    assert body["overall"] == {"total_items": 2, "completed_items": 1, "percentage": 50.0}
    assert body["streak"]["current_days"] >= 1
    assert body["last_activity_at"] is not None
    empty = await pw.client.get("/api/v1/me/progress", headers=pw.headers["outsider"])
    assert empty.json()["courses"] == []
    assert empty.json()["streak"] == {"current_days": 0, "longest_days": 0}


def test_streaks() -> None:
    days = [date(2026, 1, d) for d in (1, 2, 3, 5, 6)]
    assert streak(days, date(2026, 1, 6)).model_dump() == {"current_days": 2, "longest_days": 3}
    assert streak(days, date(2026, 1, 7)).current_days == 2  # today not over yet
    assert streak(days, date(2026, 1, 8)).current_days == 0
    assert streak([], date(2026, 1, 8)).longest_days == 0
