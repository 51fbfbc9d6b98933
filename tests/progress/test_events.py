"""Recording progress over HTTP: single events, batches, duplicates, rejections, shuffles."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text

from studyhub.core.db import Database
from studyhub.courses.models import Course
from studyhub.progress.models import ActivityDay, CourseCompletion, LectureProgress, ProgressEvent
from tests.factories import enroll
from tests.progress.conftest import ProgressWorld, ago


def statuses(body: dict[str, Any]) -> list[tuple[str | None, str, str | None]]:
    return [(r["event_id"], r["status"], r["reason"]) for r in body["results"]]


async def test_single_event_then_replay_changes_nothing(pw: ProgressWorld) -> None:
    url = pw.url(f"/lectures/{pw.video.id}/progress")
    body = {"event_id": "ev-1", "position_seconds": 120, "active_seconds": 30}
    first = await pw.client.post(url, json=body, headers=pw.headers["student"])
    assert first.status_code == 200, first.text
    lecture = first.json()["lecture"]
    assert lecture["state"] == "in_progress"
    assert lecture["position_seconds"] == 120
    assert lecture["active_seconds"] == 30
    assert first.json()["course"]["resume"] == {"lecture_id": pw.video.id, "position_seconds": 120}
    again = await pw.client.post(url, json=body, headers=pw.headers["student"])
    assert again.json()["lecture"] == lecture


async def test_single_event_state_completed_and_uncomplete(pw: ProgressWorld) -> None:
    url = pw.url(f"/lectures/{pw.text.id}/progress")
    done = await pw.client.post(url, json={"state": "completed"}, headers=pw.headers["student"])
    assert done.json()["lecture"]["state"] == "completed"
    assert done.json()["course"]["completed_items"] == 1
    assert done.json()["course"]["next_item"]["id"] == pw.video.id
    undone = await pw.client.delete(f"{url}/completion", headers=pw.headers["student"])
    assert undone.status_code == 200
    assert undone.json()["state"] == "in_progress"
    assert undone.json()["completed_at"] is None


async def test_single_event_errors(pw: ProgressWorld) -> None:
    student = pw.headers["student"]
    for lecture in (pw.hidden, pw.in_draft_week, pw.foreign):
        response = await pw.client.post(
            pw.url(f"/lectures/{lecture.id}/progress"), json={}, headers=student
        )
        assert response.status_code == 404, lecture
    url = pw.url(f"/lectures/{pw.video.id}/progress")
    future = (ago(minutes=-30)).isoformat()
    response = await pw.client.post(url, json={"occurred_at": future}, headers=student)
    assert response.status_code == 400
    assert response.json()["details"] == {"occurred_at": ["occurred_at_in_future"]}
    response = await pw.client.post(url, json={"state": "done"}, headers=student)
    assert response.status_code == 400
    for who, status in (("teacher", 403), ("ta", 403), ("outsider", 403)):
        response = await pw.client.post(url, json={}, headers=pw.headers[who])
        assert response.status_code == status, who


async def test_batch_results_and_every_rejection_reason(pw: ProgressWorld) -> None:
    now = ago(seconds=1)
    events = [
        pw.event("ok", "view", now),
        pw.event("ok", "view", now),  # duplicate within the batch
        pw.event("hidden", "view", now, lecture_id=pw.hidden.id),
        pw.event("draft-week", "view", now, lecture_id=pw.in_draft_week.id),
        pw.event("idor", "view", now, lecture_id=pw.foreign.id),
        pw.event("missing", "view", now, lecture_id=10**6),
        {**pw.event("other-course", "view", now), "course_id": pw.foreign.course_id},
        pw.event("future", "view", now + timedelta(minutes=10)),
        pw.event("old", "view", now - timedelta(days=400)),
        {**pw.event("bad-type", "view", now), "type": "rewind"},
        {"event_id": "no-time", "course_id": pw.course.id, "lecture_id": pw.video.id},
        pw.event("bad id with spaces", "view", now),
        {**pw.event("extra", "view", now), "score": 1},
        "not an object",
    ]
    body = await pw.batch(events)
    assert statuses(body) == [
        ("ok", "applied", None),
        ("ok", "duplicate", None),
        ("hidden", "rejected", "unpublished_item"),
        ("draft-week", "rejected", "unpublished_item"),
        ("idor", "rejected", "unknown_lecture"),
        ("missing", "rejected", "unknown_lecture"),
        ("other-course", "rejected", "not_enrolled"),
        ("future", "rejected", "occurred_at_in_future"),
        ("old", "rejected", "occurred_at_too_old"),
        ("bad-type", "rejected", "malformed"),
        ("no-time", "rejected", "malformed"),
        ("bad id with spaces", "rejected", "malformed"),
        ("extra", "rejected", "malformed"),
        (None, "rejected", "malformed"),
    ]
    assert [r["index"] for r in body["results"]] == list(range(len(events)))
    assert [c["course_id"] for c in body["courses"]] == [pw.course.id]
    again = await pw.batch(events[:1])
    assert statuses(again) == [("ok", "duplicate", None)]


async def test_a_lecture_counts_only_under_its_own_course(
    pw: ProgressWorld, database: Database
) -> None:
    """A student of both courses names both in one batch: each lecture is found under its own
    course only (`destinations` reads the named lectures per named course)."""
    async with database.session(write=False) as session:
        elsewhere = await session.get(Course, pw.foreign.course_id)
    assert elsewhere is not None
    await enroll(database, elsewhere, pw.student)
    now = ago(seconds=1)
    body = await pw.batch(
        [
            pw.event("here", "view", now),
            pw.event("theirs-here", "view", now, lecture_id=pw.foreign.id),
            {
                **pw.event("theirs", "view", now, lecture_id=pw.foreign.id),
                "course_id": elsewhere.id,
            },
            {**pw.event("ours-there", "view", now), "course_id": elsewhere.id},
        ]
    )
    assert statuses(body) == [
        ("here", "applied", None),
        ("theirs-here", "rejected", "unknown_lecture"),
        ("theirs", "applied", None),
        ("ours-there", "rejected", "unknown_lecture"),
    ]
    assert [c["course_id"] for c in body["courses"]] == [pw.course.id, elsewhere.id]


async def test_batch_events_are_stored_as_sent(pw: ProgressWorld, database: Database) -> None:
    """The events are inserted from one JSON document (`statements.event_insert`): every field
    lands in its column with its type, timestamps to the microsecond and in UTC (SQLite: the
    same text as any other bound timestamp)."""
    recent = ago(hours=1).replace(microsecond=654_321)
    events = [
        pw.event("a", "position", recent, position_seconds=61, active_seconds=7),
        pw.event("b", "view", recent.astimezone(timezone(timedelta(hours=-5)))),
        pw.event("c", "complete", recent, lecture_id=pw.text.id),
    ]
    response = await pw.client.post(
        "/api/v1/progress/batch",
        json={"device_id": "tablet 1", "events": events},
        headers=pw.headers["student"],
    )
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["results"]] == ["applied"] * 3
    async with database.session(write=False) as session:
        rows = {
            row.event_id: row
            for row in await session.scalars(
                select(ProgressEvent).where(ProgressEvent.user_id == pw.student.id)
            )
        }
        if session.get_bind().dialect.name == "sqlite":
            stored = await session.execute(
                text("SELECT occurred_at, received_at FROM progress_events WHERE event_id = 'a'")
            )
            raw_occurred, raw_received = stored.one()
            assert raw_occurred == recent.replace(tzinfo=None).isoformat(" ", "microseconds")
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", raw_received)
    a, b, c = rows["a"], rows["b"], rows["c"]
    assert (a.lecture_id, a.course_id, a.type) == (pw.video.id, pw.course.id, "position")
    assert (a.position_seconds, a.active_seconds, a.device_id) == (61, 7, "tablet 1")
    assert a.occurred_at == recent and a.occurred_at.tzinfo is UTC
    assert b.occurred_at == recent and (b.position_seconds, b.active_seconds) == (None, None)
    assert (c.lecture_id, c.type) == (pw.text.id, "complete")
    assert a.received_at.tzinfo is UTC
    assert abs((a.received_at - datetime.now(UTC)).total_seconds()) < 60


async def test_batch_limits(pw: ProgressWorld) -> None:
    now = ago(seconds=1)
    events = [pw.event(f"e{i}", "heartbeat", now, active_seconds=1) for i in range(501)]
    response = await pw.client.post(
        "/api/v1/progress/batch", json={"events": events}, headers=pw.headers["student"]
    )
    assert response.status_code == 400
    body = await pw.batch(events[:500])
    assert {r["status"] for r in body["results"]} == {"applied"}


async def test_staff_and_outsiders_are_not_enrolled_in_batches(pw: ProgressWorld) -> None:
    for who in ("teacher", "ta", "outsider"):
        body = await pw.batch([pw.event("x", "view", ago(seconds=1))], who=who)
        assert statuses(body) == [("x", "rejected", "not_enrolled")]
        assert body["courses"] == []


async def test_dropped_students_are_not_enrolled(pw: ProgressWorld, database: Database) -> None:
    from sqlalchemy import update

    from studyhub.enrollments.models import Enrollment, EnrollmentStatus

    async with database.session() as session:
        await session.execute(
            update(Enrollment)
            .where(Enrollment.user_id == pw.student.id)
            .values(status=EnrollmentStatus.DROPPED)
        )
        await session.commit()
    body = await pw.batch([pw.event("x", "view", ago(seconds=1))])
    assert statuses(body) == [("x", "rejected", "not_enrolled")]


def _offline_session(pw: ProgressWorld, rnd: random.Random) -> list[dict[str, Any]]:
    start = ago(hours=2)
    events = []
    for i in range(rnd.randint(1, 30)):
        kind = rnd.choice(["view", "position", "heartbeat", "complete", "uncomplete"])
        lecture = rnd.choice([pw.video, pw.text])
        extra: dict[str, Any] = {"lecture_id": lecture.id}
        if kind in ("position", "heartbeat") or rnd.random() < 0.2:
            extra["position_seconds"] = rnd.randint(0, 700)
        if kind == "heartbeat" or rnd.random() < 0.2:
            extra["active_seconds"] = rnd.randint(0, 400)
        when = start + timedelta(seconds=rnd.randint(0, 40))  # many ties
        events.append(pw.event(f"d{i}", kind, when, **extra))
    return events


async def _reset(database: Database) -> None:
    async with database.session() as session:
        for table in (ProgressEvent, LectureProgress, ActivityDay, CourseCompletion):
            await session.execute(delete(table))
        await session.commit()


async def _final_state(pw: ProgressWorld, database: Database) -> dict[str, Any]:
    progress = await pw.progress()
    if progress["state"] != "completed":
        # Below 100 %, the course shows when it first reached 100 % (history): an uncomplete
        # arriving before or after its complete may or may not have let it get there.
        progress.pop("completed_at")
    detail = await pw.client.get(
        pw.url(f"/progress/students/{pw.student.id}"), headers=pw.headers["teacher"]
    )
    async with database.session() as session:
        rows = (await session.scalars(select(LectureProgress))).all()
        lectures = {
            row.lecture_id: {
                column.key: getattr(row, column.key)
                for column in LectureProgress.__table__.columns
                if column.key not in {"id", "updated_at"}
            }
            for row in rows
        }
    return {"progress": progress, "items": detail.json()["items"], "lectures": lectures}


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rnd=st.randoms(use_true_random=False))
async def test_shuffled_replayed_batches_give_the_same_state(
    pw: ProgressWorld, database: Database, rnd: random.Random
) -> None:
    """Hypothesis over the HTTP batch endpoint (bounded examples: each is a few requests)."""
    events = _offline_session(pw, rnd)
    await _reset(database)
    await pw.batch(events)
    expected = await _final_state(pw, database)

    await _reset(database)
    shuffled = events * 2
    rnd.shuffle(shuffled)
    cut = rnd.randint(0, len(shuffled))
    for part in (shuffled[:cut], shuffled[cut:]):
        if part:
            await pw.batch(part)
    assert await _final_state(pw, database) == expected
