"""The cached course page (`courses.reader`): every change a reader can see replaces a version
stamp after its commit, so the next read shows it: course edits, enrollments, role changes,
progress, an instructor's new name. Each test reads first (filling the caches), then changes.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import TypeAdapter

from studyhub.assignments.models import AssignmentType
from studyhub.core.cache import MemoryCache
from studyhub.core.versions import Versions
from studyhub.courses.models import ContentType
from studyhub.courses.outline import RenderedOutline
from studyhub.courses.schemas import AssignmentSummary, LectureSummary, WeekOut
from tests.courses.conftest import World


async def _get(client: httpx.AsyncClient, world: World, who: str) -> dict[str, Any]:
    response = await client.get(world.url(), headers=world.headers[who])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_enrolling_shows_at_once_to_the_student_and_to_others(
    client: httpx.AsyncClient, world: World
) -> None:
    before = await _get(client, world, "outsider")
    seen_by_student = await _get(client, world, "student")
    assert before["my_role"] is None
    joined = await client.post(world.url("/enroll"), headers=world.headers["outsider"])
    assert joined.status_code == 201, joined.text
    after = await _get(client, world, "outsider")
    assert after["my_role"] == "student"
    assert after["enrollment_count"] == before["enrollment_count"] + 1
    assert (await _get(client, world, "student"))["enrollment_count"] == (
        seen_by_student["enrollment_count"] + 1
    )
    left = await client.delete(world.url("/enroll"), headers=world.headers["outsider"])
    assert left.status_code == 204
    assert (await _get(client, world, "outsider"))["my_role"] is None


async def test_a_role_change_changes_what_the_member_sees(
    client: httpx.AsyncClient, world: World
) -> None:
    as_student = await _get(client, world, "student")
    assert as_student["my_role"] == "student"
    assert all(week["is_published"] for week in as_student["weeks"])
    promoted = await client.patch(
        world.url(f"/enrollments/{world.student.id}"),
        json={"role": "ta"},
        headers=world.headers["teacher"],
    )
    assert promoted.status_code == 200, promoted.text
    as_ta = await _get(client, world, "student")
    assert as_ta["my_role"] == "ta"
    assert world.draft_week.id in {week["id"] for week in as_ta["weeks"]}


async def test_an_edit_shows_to_readers_whose_copy_was_cached(
    client: httpx.AsyncClient, world: World
) -> None:
    await _get(client, world, "student")
    changed = await client.patch(
        world.url(), json={"name": "Renamed"}, headers=world.headers["teacher"]
    )
    assert changed.status_code == 200
    assert (await _get(client, world, "student"))["name"] == "Renamed"
    # The PATCH answer and the next GET are the same representation, with the same ETag.
    again = await client.get(world.url(), headers=world.headers["teacher"])
    assert again.content == changed.content
    assert again.headers["etag"] == changed.headers["etag"]


async def test_a_new_lecture_shows_in_the_cached_outline(
    client: httpx.AsyncClient, world: World
) -> None:
    before = await _get(client, world, "student")
    created = await client.post(
        world.url(f"/weeks/{world.week.id}/lectures"),
        json={"title": "New", "content_type": "text", "body": "x", "is_published": True},
        headers=world.headers["teacher"],
    )
    assert created.status_code == 201, created.text
    after = await _get(client, world, "student")
    lectures = [lec["id"] for week in after["weeks"] for lec in week["lectures"]]
    assert created.json()["id"] in lectures
    assert len(lectures) == sum(len(week["lectures"]) for week in before["weeks"]) + 1


async def test_the_instructors_new_name_shows_on_the_course(
    client: httpx.AsyncClient, world: World
) -> None:
    await _get(client, world, "student")
    renamed = await client.patch(
        "/api/v1/auth/me", json={"first_name": "Ada"}, headers=world.headers["teacher"]
    )
    assert renamed.status_code == 200, renamed.text
    assert (await _get(client, world, "student"))["instructor"]["name"].startswith("Ada")
    by_admin = await client.patch(
        f"/api/v1/users/{world.teacher.id}",
        json={"first_name": "Grace", "last_name": "Hopper"},
        headers=world.headers["admin"],
    )
    assert by_admin.status_code == 200, by_admin.text
    assert (await _get(client, world, "student"))["instructor"]["name"] == "Grace Hopper"


async def test_completing_a_lecture_flags_it_in_the_cached_outline(
    client: httpx.AsyncClient, world: World
) -> None:
    def flag(body: dict[str, Any]) -> bool | None:
        (found,) = [
            lec["completed"]
            for week in body["weeks"]
            for lec in week["lectures"]
            if lec["id"] == world.lecture.id
        ]
        return found  # type: ignore[no-any-return]

    assert flag(await _get(client, world, "student")) is False
    done = await client.post(
        world.url(f"/lectures/{world.lecture.id}/progress"),
        json={"state": "completed"},
        headers=world.headers["student"],
    )
    assert done.status_code in (200, 201, 202), done.text
    assert flag(await _get(client, world, "student")) is True
    undone = await client.delete(
        world.url(f"/lectures/{world.lecture.id}/progress/completion"),
        headers=world.headers["student"],
    )
    assert undone.status_code in (200, 204), undone.text
    assert flag(await _get(client, world, "student")) is False


async def test_a_lost_stamp_is_recreated_new_never_reused() -> None:
    cache = MemoryCache()
    versions = Versions(cache)
    (first,) = await versions.read("k")
    assert await versions.read("k") == (first,)
    await cache.delete("k")  # evicted, expired or flushed
    (second,) = await versions.read("k")
    assert second != first
    await versions.bump("k")
    assert await versions.read("k") != (second,)


def test_a_students_outline_is_the_model_with_their_flags() -> None:
    weeks = [
        WeekOut(
            id=week,
            number=week,
            title='A "quoted" title: \\"completed\\":null',
            description="",
            is_published=True,
            lectures=[
                LectureSummary(
                    id=10 * week + n,
                    number=n,
                    title=f"L{n}",
                    content_type=ContentType.TEXT,
                    is_published=True,
                    duration_seconds=None,
                )
                for n in range(3)
            ],
            assignments=[
                AssignmentSummary(
                    id=100 + week,
                    week_id=week,
                    title="Quiz",
                    type=AssignmentType.PRACTICE,
                    start_date=None,
                    due_date=None,
                    is_published=True,
                    max_score=2.5,
                    question_count=1,
                )
            ],
        )
        for week in (1, 2)
    ]
    outline = RenderedOutline.of(weeks)
    done = {("lecture", 11), ("lecture", 20), ("assignment", 102)}
    flagged = [
        week.model_copy(
            update={
                "lectures": [
                    lec.model_copy(update={"completed": ("lecture", lec.id) in done})
                    for lec in week.lectures
                ],
                "assignments": [
                    task.model_copy(update={"completed": ("assignment", task.id) in done})
                    for task in week.assignments
                ],
            }
        )
        for week in weeks
    ]
    assert outline.for_student(done) == TypeAdapter(list[WeekOut]).dump_json(flagged)
    assert outline.plain == TypeAdapter(list[WeekOut]).dump_json(weeks)
