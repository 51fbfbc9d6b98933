"""ETag / If-None-Match on course reads; If-Match against lost updates on course writes."""

from __future__ import annotations

import asyncio

import httpx

from tests.courses.conftest import World


async def test_course_etag_and_304(client: httpx.AsyncClient, world: World) -> None:
    headers = world.headers["student"]
    first = await client.get(world.url(), headers=headers)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"
    again = await client.get(world.url(), headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    await client.patch(world.url(), json={"name": "New"}, headers=world.headers["teacher"])
    changed = await client.get(world.url(), headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


async def test_course_if_match(client: httpx.AsyncClient, world: World) -> None:
    teacher = world.headers["teacher"]
    etag = (await client.get(world.url(), headers=teacher)).headers["etag"]
    ok = await client.patch(world.url(), json={"name": "A"}, headers={**teacher, "If-Match": etag})
    assert ok.status_code == 200
    assert ok.headers["etag"] != etag
    stale = await client.patch(
        world.url(), json={"name": "B"}, headers={**teacher, "If-Match": etag}
    )
    assert (stale.status_code, stale.json()["error"]) == (412, "PRECONDITION_FAILED")
    assert stale.headers["etag"] == ok.headers["etag"]
    current = await client.get(world.url(), headers=teacher)
    assert current.json()["name"] == "A"


async def test_concurrent_updates_with_one_etag_cannot_both_win(
    client: httpx.AsyncClient, world: World
) -> None:
    teacher = world.headers["teacher"]
    etag = (await client.get(world.url(), headers=teacher)).headers["etag"]
    responses = await asyncio.gather(
        *(
            client.patch(world.url(), json={"name": f"N{i}"}, headers={**teacher, "If-Match": etag})
            for i in range(4)
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 412, 412, 412]


async def test_lecture_and_week_conditional_requests(
    client: httpx.AsyncClient, world: World
) -> None:
    staff = world.headers["ta"]
    for path, change in (
        (f"/lectures/{world.lecture.id}", {"title": "Changed"}),
        (f"/weeks/{world.week.id}", {"title": "Changed"}),
    ):
        read = await client.get(world.url(path), headers=staff)
        etag = read.headers["etag"]
        not_modified = await client.get(world.url(path), headers={**staff, "If-None-Match": etag})
        assert not_modified.status_code == 304
        updated = await client.patch(
            world.url(path), json=change, headers={**staff, "If-Match": etag}
        )
        assert updated.status_code == 200, path
        stale = await client.patch(
            world.url(path), json=change, headers={**staff, "If-Match": etag}
        )
        assert stale.status_code == 412, path
