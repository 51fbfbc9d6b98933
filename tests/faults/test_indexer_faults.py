"""StudyIndexer slow, answering garbage, or down, seen through the real service (API.md §7):
search answers 504 `SEARCH_TIMEOUT`, 502 `BAD_GATEWAY` and 503 `SEARCH_UNAVAILABLE` (with
`Retry-After`), never 500 and never late; uploads keep working while it is down, the outbox keeps
the job without spending its attempts, and delivers it once StudyIndexer is back."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.faults.world import headers_for, index_status, indexer_env, seed_world, upload_file
from tests.support.fake_indexer import FakeIndexer
from tests.support.processes import (
    Service,
    assert_error_body,
    seeded_database,
    sqlite_url,
    wait_for,
)

pytestmark = pytest.mark.process

# INDEXER_TIMEOUT_SECONDS is 1: a failing search answers within it, plus generous slack.
BOUND_SECONDS = 3.0


def quick(response: httpx.Response) -> httpx.Response:
    elapsed = response.elapsed.total_seconds()
    assert elapsed < BOUND_SECONDS, f"{response.request.url} took {elapsed:.2f} s"
    return response


async def test_search_statuses_and_the_outbox_across_an_outage(
    tmp_path: Path, fake_indexer: FakeIndexer
) -> None:
    async with seeded_database(sqlite_url(tmp_path)) as db:
        world = await seed_world(db)
    fake_indexer.polls_to_complete = 1  # completed at the first status poll
    # A high breaker threshold: this test is about how each failure maps, not the breaker.
    env = {"DATABASE_URL": sqlite_url(tmp_path), **indexer_env(fake_indexer)}
    env["INDEXER_BREAKER_THRESHOLD"] = "1000"
    with Service(env, tmp_path) as app:
        async with httpx.AsyncClient(base_url=app.url, timeout=20) as client:
            admin, teacher, student = await headers_for(
                client, world.admin, world.teacher, world.student
            )
            search = {"q": "chlorophyll", "scope": "courses"}
            ok = await client.get("/api/v1/search", params=search, headers=student)
            assert ok.status_code == 200, ok.text

            fake_indexer.set_mode("slow", delay=3.0)
            slow = quick(await client.get("/api/v1/search", params=search, headers=student))
            assert_error_body(slow, 504, "SEARCH_TIMEOUT")

            for mode in ("garbage", "wrongshape", "oversized"):
                fake_indexer.set_mode(mode)
                bad = quick(await client.get("/api/v1/search", params=search, headers=student))
                assert_error_body(bad, 502, "BAD_GATEWAY")

            fake_indexer.set_mode("healthy")
            fake_indexer.stop()  # down: the port is closed
            down = quick(await client.get("/api/v1/search", params=search, headers=student))
            assert_error_body(down, 503, "SEARCH_UNAVAILABLE")
            assert int(down.headers["retry-after"]) >= 1
            ready = quick(await client.get("/health/ready"))
            assert ready.status_code == 200
            assert ready.json()["status"] == "degraded"
            assert ready.json()["checks"]["indexer"]["status"] == "down"

            # Uploading does not depend on StudyIndexer: the job waits in the outbox.
            uploaded = await upload_file(
                client, world, teacher, b"Chlorophyll absorbs red and blue light\n"
            )
            assert uploaded.status_code == 200, uploaded.text
            assert uploaded.json()["index_status"] == "pending"

            async def job() -> dict[str, object]:
                listed = await client.get("/api/v1/admin/outbox", headers=admin)
                assert listed.status_code == 200, listed.text
                [event] = listed.json()["events"]
                return dict(event)

            async def tried_and_kept() -> bool:
                return "SEARCH_UNAVAILABLE" in str((await job())["last_error"] or "")

            await wait_for(tried_and_kept, "the relay to try the job while StudyIndexer is down")
            event = await job()
            assert (event["status"], event["attempts"]) == ("pending", 0)  # no attempt spent

            fake_indexer.start()  # back, on the same port

            async def completed() -> bool:
                return await index_status(client, world, teacher) == "completed"

            await wait_for(
                completed, "the lecture to be indexed after the outage", deadline_seconds=30
            )
            assert len(fake_indexer.calls_to("POST", "/api/v1/documents")) == 1
            assert len(fake_indexer.documents) == 1
            event = await job()
            assert event["status"] == "delivered"
            found = await client.get("/api/v1/search", params=search, headers=student)
            assert found.status_code == 200, found.text
            hits = found.json()["results"]
            assert [hit["source"]["lecture"]["id"] for hit in hits] == [world.lectures[0].id]
            ready = await client.get("/health/ready")
            assert ready.json()["checks"]["indexer"]["status"] == "ok"
        assert app.terminate(), app.stderr()[-3000:]
    assert "Traceback" not in app.stderr(), app.stderr()[-5000:]
