from __future__ import annotations

import httpx

from tests.courses.conftest import World


async def test_outline(client: httpx.AsyncClient, world: World) -> None:
    r = await client.get(world.url(), headers=world.headers["student"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["my_role"] == "student"
    assert [w["number"] for w in body["weeks"]] == [1]
    assert [lec["number"] for lec in body["weeks"][0]["lectures"]] == [1]
    r = await client.get(world.url(), headers=world.headers["teacher"])
    assert [w["number"] for w in r.json()["weeks"]] == [1, 2]
    assert len(r.json()["weeks"][0]["lectures"]) == 2
