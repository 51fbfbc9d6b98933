"""Search over real HTTP against the fake StudyIndexer: only readable hits, failure modes mapped to
their documented statuses, the breaker, and the indexer call overlapping the permission query."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from studyhub.core.config import Settings
from studyhub.core.db import Database
from studyhub.enrollments.models import EnrollmentStatus
from tests.factories import enroll, make_lecture, make_user
from tests.helpers import auth_headers
from tests.support.fake_indexer import SEQUENCE, FakeIndexer
from tests.support.indexer_fixtures import drain, running_app
from tests.support.indexer_world import IndexWorld, index_world, upload

Pair = tuple[FastAPI, httpx.AsyncClient]


async def _indexed_world(app: FastAPI, client: httpx.AsyncClient, database: Database) -> IndexWorld:
    world = await index_world(database, client)
    assert (await upload(client, world, b"Enzymes speed up reactions\n")).status_code == 200
    other = await upload(
        client, world, b"Enzymes in the other course\n", lecture=world.other_lecture
    )
    assert other.status_code == 200
    await drain(app.state.outbox_relay)
    return world


async def _search(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str | int
) -> httpx.Response:
    return await client.get("/api/v1/search", params={"q": "enzymes", **params}, headers=headers)


def _lecture_ids(response: httpx.Response) -> set[int]:
    assert response.status_code == 200, response.text
    return {
        r["source"]["lecture"]["id"] for r in response.json()["results"] if r["source"]["lecture"]
    }


async def test_callers_see_only_what_they_may_read(indexed: Pair, database: Database) -> None:
    app, client = indexed
    world = await _indexed_world(app, client, database)
    mine, theirs = world.lecture.id, world.other_lecture.id
    assert _lecture_ids(await _search(client, world.headers["student"])) == {mine}
    assert _lecture_ids(await _search(client, world.headers["ta"])) == {mine}
    assert _lecture_ids(await _search(client, world.headers["outsider"])) == {theirs}
    assert _lecture_ids(await _search(client, world.headers["admin"])) == {mine, theirs}
    # Naming a course the caller cannot read gives nothing, not its hits.
    named = await _search(client, world.headers["student"], course_id=world.other_course.id)
    assert _lecture_ids(named) == set()
    body = (await _search(client, world.headers["student"])).json()
    [result] = body["results"]
    assert result["source"]["course"] == {
        "id": world.course.id,
        "code": world.course.code,
        "name": world.course.name,
    }
    assert result["source"]["week"]["id"] == world.week.id
    assert result["highlights"] == ["Enzymes speed up reactions"]
    assert body["pagination"]["total"] == 1
    assert body["query_time_ms"] >= 0


async def test_drafts_and_dropped_students(indexed: Pair, database: Database) -> None:
    app, client = indexed
    world = await index_world(database, client)
    draft = await make_lecture(database, world.week, number=2, published=False)
    await upload(client, world, b"Enzymes draft\n", lecture=draft)
    await drain(app.state.outbox_relay)
    assert _lecture_ids(await _search(client, world.headers["student"])) == set()
    assert _lecture_ids(await _search(client, world.headers["teacher"])) == {draft.id}
    dropped = await make_user(database)
    await enroll(database, world.course, dropped, status=EnrollmentStatus.DROPPED)
    headers = await auth_headers(client, dropped.username)
    assert _lecture_ids(await _search(client, headers)) == set()


async def test_personal_items_are_the_owners_only(indexed: Pair, database: Database) -> None:
    app, client = indexed
    world = await index_world(database, client)
    for who in ("student", "outsider"):
        folder = await client.post(
            "/api/v1/personal/folders", json={"name": "Bio"}, headers=world.headers[who]
        )
        note = await client.post(
            f"/api/v1/personal/folders/{folder.json()['id']}/items",
            json={"title": f"{who} enzymes", "content": "my enzymes note"},
            headers=world.headers[who],
        )
        assert note.status_code == 201, note.text
    await drain(app.state.outbox_relay)
    for who in ("student", "outsider"):
        response = await _search(client, world.headers[who], scope="personal")
        titles = [r["source"]["item"]["title"] for r in response.json()["results"]]
        assert titles == [f"{who} enzymes"]
    admin = await _search(client, world.headers["admin"], scope="personal")
    assert admin.json()["results"] == []  # admins have no business in users' notes


async def test_not_configured_is_503(client: httpx.AsyncClient, database: Database) -> None:
    user = await make_user(database)
    response = await _search(client, await auth_headers(client, user.username))
    assert response.status_code == 503
    assert response.json()["error"] == "SEARCH_UNAVAILABLE"
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [
        ("slow", 504, "SEARCH_TIMEOUT"),
        ("trickle", 504, "SEARCH_TIMEOUT"),
        ("error500", 502, "BAD_GATEWAY"),
        ("ratelimit", 503, "SEARCH_UNAVAILABLE"),
        ("garbage", 502, "BAD_GATEWAY"),
        ("wrongshape", 502, "BAD_GATEWAY"),
        ("oversized", 502, "BAD_GATEWAY"),
        ("down", 503, "SEARCH_UNAVAILABLE"),
    ],
)
async def test_failure_modes(
    indexer_settings: Callable[..., Settings],
    database: Database,
    fake_indexer: FakeIndexer,
    mode: str,
    status: int,
    code: str,
) -> None:
    deadline = 1.0
    settings = indexer_settings(indexer_timeout_seconds=deadline, indexer_read_timeout_seconds=0.5)
    async with running_app(settings) as (_app, client):
        user = await make_user(database)
        headers = await auth_headers(client, user.username)
        if mode == "down":
            fake_indexer.stop()
        else:
            fake_indexer.set_mode(mode, delay=0.3 if mode == "trickle" else 3.0)
            fake_indexer.retry_after = 30
        response = await _search(client, headers, scope="courses")
    assert (response.status_code, response.json()["error"]) == (status, code), response.text
    if status == 503:
        assert int(response.headers["Retry-After"]) >= 1
    # No wall-clock assertion (DESIGN.md §12). "trickle" sends a byte every 0.3 s, under the 0.5 s
    # read timeout, for ~10 s: only the 1 s overall deadline can turn it into this 504.


async def test_breaker_stops_upstream_calls_while_open(
    indexer_settings: Callable[..., Settings], database: Database, fake_indexer: FakeIndexer
) -> None:
    settings = indexer_settings(indexer_breaker_threshold=2, indexer_breaker_cooldown_seconds=60)
    async with running_app(settings) as (_app, client):
        user = await make_user(database)
        headers = await auth_headers(client, user.username)
        fake_indexer.set_mode("error500")
        for _ in range(2):
            assert (await _search(client, headers, scope="courses")).status_code == 502
        calls = len(fake_indexer.calls)
        assert calls == 2 * 3  # each search: one call and two retries
        for _ in range(3):
            response = await _search(client, headers, scope="courses")
            assert response.status_code == 503
            assert response.json()["error"] == "SEARCH_UNAVAILABLE"
        assert len(fake_indexer.calls) == calls  # open: StudyIndexer is left alone


async def test_the_indexer_call_overlaps_the_permission_query(
    indexed: Pair, database: Database, fake_indexer: FakeIndexer
) -> None:
    """Ordering, not timing: the fake holds its /search answer until the permission query has
    finished. Run one after the other, the search either waits on the gate until the deadline
    (indexer first) or starts after the permission query finished (permissions first)."""
    app, client = indexed
    world = await _indexed_world(app, client, database)
    marks: dict[str, int] = {}
    gate = threading.Event()

    def probe(event: str) -> None:
        marks[event] = next(SEQUENCE)
        if event == "permissions-finish":
            gate.set()

    app.state.search_probe = probe
    fake_indexer.search_gate = gate
    try:
        response = await _search(client, world.headers["student"], scope="courses")
    finally:
        app.state.search_probe = None
    assert response.status_code == 200, response.text
    [call] = fake_indexer.calls_to("POST", "/api/v1/search")
    assert call.started < marks["permissions-finish"]
    assert marks["permissions-start"] < call.finished


async def test_similar_lectures(indexed: Pair, database: Database) -> None:
    app, client = indexed
    world = await index_world(database, client)
    second = await make_lecture(database, world.week, number=2)
    await upload(client, world, b"cell membrane transport\n")
    await upload(client, world, b"membrane transport proteins\n", lecture=second)
    await upload(client, world, b"membrane elsewhere\n", lecture=world.other_lecture)
    await drain(app.state.outbox_relay)
    response = await client.get(
        world.lecture_url(suffix="/similar"), params={"limit": 5}, headers=world.headers["student"]
    )
    assert _lecture_ids(response) == {second.id}  # not itself, not the other course
    outsider = await client.get(
        world.lecture_url(suffix="/similar"), headers=world.headers["outsider"]
    )
    assert outsider.status_code in {403, 404}
    too_many = await client.get(
        world.lecture_url(suffix="/similar"), params={"limit": 21}, headers=world.headers["student"]
    )
    assert too_many.status_code == 400


async def test_readiness_reports_the_indexer(
    indexed: Pair, database: Database, fake_indexer: FakeIndexer
) -> None:
    _app, client = indexed
    ready = (await client.get("/health/ready")).json()
    assert ready["checks"]["indexer"]["status"] == "ok"
    assert ready["checks"]["indexer"]["latency_ms"] >= 0
    fake_indexer.stop()
    response = await client.get("/health/ready")
    assert response.status_code == 200  # search down is degraded service, not an outage
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["indexer"]["status"] == "down"
