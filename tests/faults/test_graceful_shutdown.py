"""SIGTERM under load: requests in flight complete with 2xx, new connections are refused, the
outbox relay stops after its round with no traceback, and nothing acknowledged is lost: every
note answered 201 exists after a restart, and every indexing job is delivered.

No timing: searches are held in flight by the fake StudyIndexer's gate until the server has
stopped listening (observed by polling its port), then released.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path

import httpx
import pytest

from tests.faults.world import headers_for, indexer_env, seed_world
from tests.support.fake_indexer import FakeIndexer
from tests.support.processes import Service, seeded_database, sqlite_url, tracebacks, wait_for

pytestmark = pytest.mark.process

IN_FLIGHT_SEARCHES = 5
WRITERS = 4


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.5):
            return True
    except OSError:
        return False


async def test_sigterm_lets_in_flight_requests_finish_and_loses_nothing(
    tmp_path: Path, fake_indexer: FakeIndexer
) -> None:
    async with seeded_database(sqlite_url(tmp_path)) as db:
        world = await seed_world(db)
    env = {
        "DATABASE_URL": sqlite_url(tmp_path),
        **indexer_env(fake_indexer),
        # The held searches must not time out while the test shuts the server down.
        "INDEXER_TIMEOUT_SECONDS": "20",
        "INDEXER_READ_TIMEOUT_SECONDS": "20",
    }
    app = Service(env, tmp_path)
    app.start()
    try:
        async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
            admin, student = await headers_for(client, world.admin, world.student)
            folder = await client.post(
                "/api/v1/personal/folders", json={"name": "Notes"}, headers=student
            )
            assert folder.status_code == 201, folder.text
            items_url = f"/api/v1/personal/folders/{folder.json()['id']}/items"

            created: list[int] = []
            failures: list[str] = []
            stop = asyncio.Event()

            async def writer(number: int) -> None:
                count = 0
                async with httpx.AsyncClient(base_url=app.url, timeout=30) as own:
                    while not stop.is_set():
                        count += 1
                        body = {"title": f"w{number}-{count}", "content": "mitochondria notes"}
                        try:
                            response = await own.post(items_url, json=body, headers=student)
                        except httpx.TransportError:
                            return  # the server stopped listening (or closed an idle connection)
                        if response.status_code == 201:
                            created.append(int(response.json()["id"]))
                        else:
                            failures.append(f"{response.status_code} {response.text}")

            fake_indexer.search_gate = gate = threading.Event()
            search = {"q": "mitochondria", "scope": "all"}
            searches = [
                asyncio.ensure_future(client.get("/api/v1/search", params=search, headers=student))
                for _ in range(IN_FLIGHT_SEARCHES)
            ]
            writers = [asyncio.ensure_future(writer(n)) for n in range(WRITERS)]

            async def held() -> bool:
                return len(fake_indexer.calls_to("POST", "/api/v1/search")) >= IN_FLIGHT_SEARCHES

            async def writing() -> bool:
                return len(created) >= 10

            await wait_for(held, "the searches to be in flight")
            await wait_for(writing, "the writers to get going")

            app.signal(15)  # SIGTERM

            async def stopped_listening() -> bool:
                return not await asyncio.to_thread(_listening, app.port)

            await wait_for(stopped_listening, "the server to stop accepting connections")
            gate.set()
            answered = await asyncio.gather(*searches)
            assert [r.status_code for r in answered] == [200] * IN_FLIGHT_SEARCHES, [
                r.text for r in answered
            ]
            stop.set()
            await asyncio.wait_for(asyncio.gather(*writers), 30)
            assert failures == []
            assert await asyncio.to_thread(app.wait_clean), app.stderr()[-3000:]
        log = app.stderr()
        assert tracebacks(log) == [], log[-5000:]

        # A new process on the same database: every acknowledged note is there, every job is
        # delivered (the relay picks up what the stopped one had not finished).
        app.start()
        async with httpx.AsyncClient(base_url=app.url, timeout=30) as client:
            admin, student = await headers_for(client, world.admin, world.student)
            listed = await client.get(items_url + "?per_page=100", headers=student)
            assert listed.status_code == 200, listed.text
            total = listed.json()["pagination"]["total"]
            assert total >= len(created)  # a request cut off mid-flight may have committed
            for item_id in created:
                got = await client.get(f"/api/v1/personal/items/{item_id}", headers=student)
                assert got.status_code == 200, got.text

            async def all_delivered() -> bool:
                page = await client.get(
                    "/api/v1/admin/outbox?per_page=100&status=delivered", headers=admin
                )
                return bool(page.json()["pagination"]["total"] == total)

            await wait_for(all_delivered, "every indexing job to be delivered", 60)
            indexed = {doc.title for doc in fake_indexer.documents.values()}
            assert len(indexed) == total
        assert app.terminate(), app.stderr()[-3000:]
        assert tracebacks(app.stderr()) == []
    finally:
        app.close()
