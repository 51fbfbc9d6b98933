"""API.md §3 weeks and lectures, the IDOR rule, sanitised rich text, and the outline cache."""

from __future__ import annotations

import httpx
import pytest

from studyhub.core.db import Database
from tests.courses.conftest import World
from tests.factories import make_course, make_lecture, make_week


async def test_week_crud(client: httpx.AsyncClient, world: World) -> None:
    staff = world.headers["ta"]
    created = await client.post(
        world.url("/weeks"), json={"number": 3, "title": "Week three"}, headers=staff
    )
    assert created.status_code == 201, created.text
    week = created.json()
    assert created.headers["location"].endswith(f"/weeks/{week['id']}")
    assert (week["is_published"], week["lectures"], week["assignments"]) == (False, [], [])

    taken = await client.post(world.url("/weeks"), json={"number": 3, "title": "x"}, headers=staff)
    assert (taken.status_code, taken.json()["error"]) == (409, "WEEK_NUMBER_TAKEN")

    updated = await client.patch(
        world.url(f"/weeks/{week['id']}"),
        json={"is_published": True, "title": "Three"},
        headers=staff,
    )
    assert (updated.json()["is_published"], updated.json()["title"]) == (True, "Three")
    clash = await client.patch(world.url(f"/weeks/{week['id']}"), json={"number": 1}, headers=staff)
    assert (clash.status_code, clash.json()["error"]) == (409, "WEEK_NUMBER_TAKEN")

    listed = await client.get(world.url("/weeks"), headers=world.headers["student"])
    assert [w["number"] for w in listed.json()["weeks"]] == [1, 3]

    assert (
        await client.delete(world.url(f"/weeks/{week['id']}"), headers=staff)
    ).status_code == 204
    gone = await client.get(world.url(f"/weeks/{week['id']}"), headers=staff)
    assert gone.status_code == 404


async def test_students_read_published_weeks_only(client: httpx.AsyncClient, world: World) -> None:
    student = world.headers["student"]
    assert (await client.get(world.url(f"/weeks/{world.week.id}"), headers=student)).is_success
    draft = await client.get(world.url(f"/weeks/{world.draft_week.id}"), headers=student)
    assert draft.status_code == 404
    assert (
        await client.get(world.url(f"/weeks/{world.draft_week.id}"), headers=world.headers["ta"])
    ).is_success


async def test_content_needs_enrollment(client: httpx.AsyncClient, world: World) -> None:
    outsider = world.headers["outsider"]
    for path in (
        "/weeks",
        f"/weeks/{world.week.id}",
        f"/lectures/{world.lecture.id}",
        f"/lectures/{world.lecture.id}/file",
        "/lectures/999999",
    ):
        response = await client.get(world.url(path), headers=outsider)
        assert (response.status_code, response.json()["error"]) == (403, "NOT_ENROLLED"), path


@pytest.mark.parametrize("caller", ["student", "outsider"])
async def test_students_cannot_edit(client: httpx.AsyncClient, world: World, caller: str) -> None:
    headers = world.headers[caller]
    attempts = [
        client.post(world.url("/weeks"), json={"number": 9, "title": "x"}, headers=headers),
        client.patch(world.url(f"/weeks/{world.week.id}"), json={"title": "x"}, headers=headers),
        client.delete(world.url(f"/weeks/{world.week.id}"), headers=headers),
        client.post(
            world.url(f"/weeks/{world.week.id}/lectures"),
            json={"title": "x", "content_type": "text"},
            headers=headers,
        ),
        client.patch(
            world.url(f"/lectures/{world.lecture.id}"), json={"title": "x"}, headers=headers
        ),
        client.delete(world.url(f"/lectures/{world.lecture.id}"), headers=headers),
    ]
    for attempt in attempts:
        assert (await attempt).status_code == 403


async def test_lecture_crud_and_sanitising(client: httpx.AsyncClient, world: World) -> None:
    staff = world.headers["teacher"]
    body = {
        "title": "Intro video",
        "content_type": "youtube",
        "url": "https://www.youtube.com/watch?v=abc",
        "body": '<p onclick="steal()">Watch <a href="javascript:alert(1)">this</a></p>'
        "<script>alert(1)</script><img src=x onerror=alert(1)>",
        "transcript": "hello world",
        "duration_seconds": 600,
        "is_published": True,
    }
    created = await client.post(
        world.url(f"/weeks/{world.week.id}/lectures"), json=body, headers=staff
    )
    assert created.status_code == 201, created.text
    lecture = created.json()
    assert lecture["number"] == 3  # next after the world's two lectures
    assert "script" not in lecture["body"] and "onclick" not in lecture["body"]
    assert "javascript" not in lecture["body"] and "onerror" not in lecture["body"]
    assert lecture["file"] is None and lecture["index_status"] == "not_indexed"

    student_view = await client.get(
        world.url(f"/lectures/{lecture['id']}"), headers=world.headers["student"]
    )
    assert student_view.status_code == 200
    assert student_view.json()["transcript"] == "hello world"

    stored_xss = await client.patch(
        world.url(f"/lectures/{lecture['id']}"),
        json={"body": "<svg onload=alert(1)>"},
        headers=staff,
    )
    assert "onload" not in stored_xss.json()["body"]

    moved = await client.patch(
        world.url(f"/lectures/{lecture['id']}"),
        json={"week_id": world.draft_week.id},
        headers=staff,
    )
    assert moved.json()["week_id"] == world.draft_week.id
    # Now in an unpublished week: students lose it.
    hidden = await client.get(
        world.url(f"/lectures/{lecture['id']}"), headers=world.headers["student"]
    )
    assert hidden.status_code == 404

    clash = await client.patch(
        world.url(f"/lectures/{world.lecture.id}"), json={"number": 2}, headers=staff
    )
    assert (clash.status_code, clash.json()["error"]) == (409, "LECTURE_NUMBER_TAKEN")
    deleted = await client.delete(world.url(f"/lectures/{lecture['id']}"), headers=staff)
    assert deleted.status_code == 204
    assert (
        await client.get(world.url(f"/lectures/{lecture['id']}"), headers=staff)
    ).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"title": "x", "content_type": "youtube"},
        {"title": "x", "content_type": "video"},
        {"title": "x", "content_type": "link", "url": "javascript:alert(1)"},
        {"title": "", "content_type": "text"},
        {"title": "x", "content_type": "text", "duration_seconds": -1},
        {"title": "x", "content_type": "text", "index_status": "completed"},
        {"title": "x", "content_type": "text", "file_storage_name": "../../etc/passwd"},
    ],
)
async def test_lecture_validation(
    client: httpx.AsyncClient, world: World, body: dict[str, object]
) -> None:
    response = await client.post(
        world.url(f"/weeks/{world.week.id}/lectures"), json=body, headers=world.headers["teacher"]
    )
    assert response.status_code == 400


async def test_nested_objects_are_found_only_through_their_course(
    client: httpx.AsyncClient, world: World, database: Database
) -> None:
    """IDOR: a lecture or week of course B addressed under course A is a 404, even for a user
    who may read both courses."""
    other = await make_course(database, world.teacher)
    other_week = await make_week(database, other)
    other_lecture = await make_lecture(database, other_week)
    teacher = world.headers["teacher"]
    for method, path in (
        ("GET", f"/lectures/{other_lecture.id}"),
        ("PATCH", f"/lectures/{other_lecture.id}"),
        ("DELETE", f"/lectures/{other_lecture.id}"),
        ("GET", f"/lectures/{other_lecture.id}/file"),
        ("GET", f"/weeks/{other_week.id}"),
        ("PATCH", f"/weeks/{other_week.id}"),
        ("DELETE", f"/weeks/{other_week.id}"),
        ("POST", f"/weeks/{other_week.id}/lectures"),
    ):
        json = {"title": "x", "content_type": "text"} if method == "POST" else {"title": "x"}
        response = await client.request(method, world.url(path), headers=teacher, json=json)
        assert response.status_code == 404, (method, path)
    moved = await client.patch(
        world.url(f"/lectures/{world.lecture.id}"), json={"week_id": other_week.id}, headers=teacher
    )
    assert moved.status_code == 404


async def test_a_write_is_visible_on_the_next_read(client: httpx.AsyncClient, world: World) -> None:
    student = world.headers["student"]
    before = await client.get(world.url(), headers=student)
    assert [w["title"] for w in before.json()["weeks"]] == ["Week 1"]
    await client.get(world.url(), headers=student)  # served from the cache now
    renamed = await client.patch(
        world.url(f"/weeks/{world.week.id}"), json={"title": "Renamed"}, headers=world.headers["ta"]
    )
    assert renamed.status_code == 200
    after = await client.get(world.url(), headers=student)
    assert [w["title"] for w in after.json()["weeks"]] == ["Renamed"]
    published = await client.patch(
        world.url(f"/weeks/{world.draft_week.id}"),
        json={"is_published": True},
        headers=world.headers["ta"],
    )
    assert published.status_code == 200
    assert len((await client.get(world.url(), headers=student)).json()["weeks"]) == 2


async def test_archived_course_content_stays_readable_by_its_students(
    client: httpx.AsyncClient, world: World
) -> None:
    await client.delete(world.url(), headers=world.headers["teacher"])
    response = await client.get(
        world.url(f"/lectures/{world.lecture.id}"), headers=world.headers["student"]
    )
    assert response.status_code == 200
