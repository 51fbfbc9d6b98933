"""kill -9 of the service after an indexing job committed but before it was delivered; restarted
with StudyIndexer up, the job is delivered and its effect is exactly once: the lecture ends up
`completed` with one document that search returns once (DESIGN.md §8: at-least-once delivery,
the relay records the outcome on the lecture).

Two moments: the job waiting in the outbox (StudyIndexer down), and the relay killed in the
middle of the upload call (the claimed job's lease runs out, then it is delivered again; the
document StudyIndexer made for the dead call is an orphan nobody points to, and search, which
joins hits with the lecture's current document id, never shows it).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.faults.world import (
    headers_for,
    index_status,
    indexer_env,
    seed_world,
    upload_file,
)
from tests.support.fake_indexer import FakeIndexer
from tests.support.processes import Service, seeded_database, sqlite_url, wait_for

pytestmark = pytest.mark.process

CONTENT = b"Ribosomes translate messenger RNA into proteins\n"


async def _assert_indexed_once(
    client: httpx.AsyncClient, fake: FakeIndexer, teacher: dict[str, str], student: dict[str, str]
) -> None:
    lecture = (await client.get("/api/v1/courses/1/lectures/1", headers=teacher)).json()
    assert lecture["index_status"] == "completed"
    found = await client.get(
        "/api/v1/search", params={"q": "ribosomes", "scope": "courses"}, headers=student
    )
    assert found.status_code == 200, found.text
    assert [hit["source"]["lecture"]["id"] for hit in found.json()["results"]] == [lecture["id"]]


async def test_kill_9_while_the_job_waits_for_studyindexer(
    tmp_path: Path, fake_indexer: FakeIndexer
) -> None:
    async with seeded_database(sqlite_url(tmp_path)) as db:
        world = await seed_world(db)
    fake_indexer.polls_to_complete = 1  # completed at the first status poll
    app = Service({"DATABASE_URL": sqlite_url(tmp_path), **indexer_env(fake_indexer)}, tmp_path)
    fake_indexer.stop()
    try:
        app.start()
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as client:
            admin, teacher = await headers_for(client, world.admin, world.teacher)
            uploaded = await upload_file(client, world, teacher, CONTENT)
            assert uploaded.status_code == 200, uploaded.text

            async def tried() -> bool:
                events = (await client.get("/api/v1/admin/outbox", headers=admin)).json()
                return "SEARCH_UNAVAILABLE" in str(events["events"][0]["last_error"])

            await wait_for(tried, "the relay to find StudyIndexer down")
        app.kill()  # SIGKILL: no shutdown, no relay stop

        fake_indexer.start()
        app.start()
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as client:
            teacher, student = await headers_for(client, world.teacher, world.student)

            async def completed() -> bool:
                return await index_status(client, world, teacher) == "completed"

            await wait_for(completed, "delivery after the restart", 30)
            assert len(fake_indexer.calls_to("POST", "/api/v1/documents")) == 1
            assert len(fake_indexer.documents) == 1
            await _assert_indexed_once(client, fake_indexer, teacher, student)
        assert app.terminate(), app.stderr()[-3000:]
    finally:
        app.close()


async def test_kill_9_in_the_middle_of_the_upload_call(
    tmp_path: Path, fake_indexer: FakeIndexer
) -> None:
    async with seeded_database(sqlite_url(tmp_path)) as db:
        world = await seed_world(db)
    fake_indexer.polls_to_complete = 1  # completed at the first status poll
    env = {
        "DATABASE_URL": sqlite_url(tmp_path),
        **indexer_env(fake_indexer),
        "OUTBOX_LEASE_SECONDS": "2",
    }
    app = Service(env, tmp_path)
    try:
        app.start()
        fake_indexer.set_mode("slow", delay=2.0)  # every call sits 2 s in StudyIndexer
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as client:
            [teacher] = await headers_for(client, world.teacher)
            uploaded = await upload_file(client, world, teacher, CONTENT)
            assert uploaded.status_code == 200, uploaded.text

            async def uploading() -> bool:
                calls = fake_indexer.calls_to("POST", "/api/v1/documents")
                return any(call.finished == 0 for call in calls)

            await wait_for(uploading, "the relay's upload to be in flight")
        app.kill()  # the relay dies holding the claimed job
        fake_indexer.set_mode("healthy")

        app.start()
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as client:
            teacher, student = await headers_for(client, world.teacher, world.student)

            async def completed() -> bool:
                return await index_status(client, world, teacher) == "completed"

            await wait_for(completed, "delivery once the dead relay's lease ran out", 30)
            # Delivered at least once: the killed call and the retry.
            assert len(fake_indexer.calls_to("POST", "/api/v1/documents")) == 2
            await _assert_indexed_once(client, fake_indexer, teacher, student)
        assert app.terminate(), app.stderr()[-3000:]
    finally:
        app.close()
