"""GET /admin/stats counts what API.md §10 lists."""

from __future__ import annotations

import httpx

from tests.courses.conftest import World


async def test_admin_stats(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get("/api/v1/admin/stats", headers=world.headers["admin"])
    assert response.status_code == 200, response.text
    stats = response.json()
    assert stats["users"]["by_role"] == {"admin": 1, "teacher": 1, "ta": 1, "student": 2}
    assert stats["users"]["total"] == 5
    assert stats["courses"] == {"total": 1, "published": 1}
    assert stats["enrollments"] == 3  # teacher, TA and student in the world's course
    assert stats["assignments"] == 0
    assert stats["submissions_last_7d"] == 0
    assert stats["active_users_7d"] == 5  # everyone logged in to build the world
    assert stats["indexing"] == {"pending": 0, "failed": 0}
    for caller in ("teacher", "student"):
        denied = await client.get("/api/v1/admin/stats", headers=world.headers[caller])
        assert denied.status_code == 403
    assert (await client.get("/api/v1/admin/stats")).status_code == 401
