"""The transactional outbox over real HTTP against the fake StudyIndexer: jobs are written with
the change, delivered only after commit, survive an outage and a restart, and end up recorded on
the lecture."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from studyhub.core.config import Settings
from studyhub.core.db import Database
from studyhub.core.errors import AppError
from studyhub.courses.cache import CourseCache
from studyhub.courses.models import IndexStatus
from studyhub.outbox.models import OutboxKind, OutboxStatus
from tests.support.fake_indexer import FakeIndexer
from tests.support.indexer_fixtures import drain, running_app
from tests.support.indexer_world import index_world, lecture_row, outbox_rows, upload

Pair = tuple[FastAPI, httpx.AsyncClient]


async def test_upload_writes_a_job_and_no_http_until_the_relay_runs(
    indexed: Pair, database: Database, fake_indexer: FakeIndexer
) -> None:
    app, client = indexed
    world = await index_world(database, client)
    response = await upload(client, world, b"Photosynthesis turns light into sugar\n")
    assert response.status_code == 200, response.text
    assert response.json()["index_status"] == "pending"
    assert fake_indexer.calls == []  # nothing during the request
    [job] = await outbox_rows(database)
    assert (job.kind, job.status, job.subject_id) == (
        OutboxKind.INDEX,
        OutboxStatus.PENDING,
        world.lecture.id,
    )

    await app.state.outbox_relay.run_once()
    [post] = fake_indexer.calls_to("POST", "/api/v1/documents")
    assert post.status == 202
    lecture = await lecture_row(database, world.lecture.id)
    assert lecture is not None and lecture.index_status is IndexStatus.PROCESSING
    assert lecture.indexer_document_id in fake_indexer.documents

    await drain(app.state.outbox_relay)
    [job] = await outbox_rows(database)
    assert job.status is OutboxStatus.DELIVERED
    assert job.document_id == lecture.indexer_document_id
    lecture = await lecture_row(database, world.lecture.id)
    assert lecture is not None and lecture.index_status is IndexStatus.COMPLETED
    got = await client.get(world.lecture_url(), headers=world.headers["student"])
    assert got.json()["index_status"] == "completed"


async def test_a_rolled_back_change_is_never_indexed(
    indexed: Pair,
    database: Database,
    fake_indexer: FakeIndexer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, client = indexed
    world = await index_world(database, client)

    def fail(self: CourseCache, course_id: int) -> None:
        raise AppError("forced failure after the outbox write")

    # `course_changed` runs after the job is added: the request fails and rolls everything back.
    monkeypatch.setattr(CourseCache, "course_changed", fail)
    response = await upload(client, world, b"never indexed\n")
    assert response.status_code == 500
    monkeypatch.undo()
    assert await outbox_rows(database) == []
    await drain(app.state.outbox_relay)
    assert fake_indexer.calls == []


async def test_outage_and_restart_lose_nothing(
    indexer_settings: Callable[..., Settings],
    database: Database,
    fake_indexer: FakeIndexer,
) -> None:
    settings = indexer_settings()
    fake_indexer.stop()  # down: the port is closed
    async with running_app(settings) as (app, client):
        world = await index_world(database, client)
        response = await upload(client, world, b"Mitochondria are the powerhouse\n")
        assert response.status_code == 200  # the upload does not depend on StudyIndexer
        result = await app.state.outbox_relay.run_once()
        assert result.stopped_early
        [job] = await outbox_rows(database)
        assert job.status is OutboxStatus.PENDING
        assert job.attempts == 0  # an outage does not spend the job's attempts
        assert job.last_error is not None and "SEARCH_UNAVAILABLE" in job.last_error
    # A new process on the same database, StudyIndexer back.
    fake_indexer.start()
    async with running_app(settings) as (app, _client):
        await drain(app.state.outbox_relay)
    [job] = await outbox_rows(database)
    assert job.status is OutboxStatus.DELIVERED
    assert len(fake_indexer.calls_to("POST", "/api/v1/documents")) == 1
    lecture = await lecture_row(database, world.lecture.id)
    assert lecture is not None and lecture.index_status is IndexStatus.COMPLETED


async def test_without_an_indexer_jobs_stay_queued(
    client: httpx.AsyncClient, app: FastAPI, database: Database
) -> None:
    world = await index_world(database, client)
    assert (await upload(client, world, b"queued\n")).status_code == 200
    assert app.state.indexer is None
    assert not app.state.outbox_relay.running
    await app.state.outbox_relay.run_once()
    [job] = await outbox_rows(database)
    assert job.status is OutboxStatus.PENDING


async def test_replacing_twice_uploads_once_and_replacing_an_indexed_file_deletes_it(
    indexed: Pair, database: Database, fake_indexer: FakeIndexer
) -> None:
    app, client = indexed
    world = await index_world(database, client)
    await upload(client, world, b"first version\n")
    await upload(client, world, b"second version\n")
    await drain(app.state.outbox_relay)
    assert len(fake_indexer.calls_to("POST", "/api/v1/documents")) == 1  # first job was stale
    [doc] = fake_indexer.documents.values()
    assert doc.content == "second version\n"

    await upload(client, world, b"third version\n")
    await drain(app.state.outbox_relay)
    [doc] = fake_indexer.documents.values()
    assert doc.content == "third version\n"
    lecture = await lecture_row(database, world.lecture.id)
    assert lecture is not None and lecture.indexer_document_id == doc.document_id
    assert all(job.status is OutboxStatus.DELIVERED for job in await outbox_rows(database))


async def test_deleting_a_lecture_or_week_deletes_its_document(
    indexed: Pair, database: Database, fake_indexer: FakeIndexer
) -> None:
    app, client = indexed
    world = await index_world(database, client)
    await upload(client, world, b"to be deleted\n")
    await upload(client, world, b"other course\n", lecture=world.other_lecture)
    await drain(app.state.outbox_relay)
    assert len(fake_indexer.documents) == 2
    response = await client.delete(world.lecture_url(), headers=world.headers["teacher"])
    assert response.status_code == 204
    await drain(app.state.outbox_relay)
    assert len(fake_indexer.documents) == 1
    url = f"/api/v1/courses/{world.other_course.id}/weeks/{world.other_week.id}"
    response = await client.delete(url, headers=world.headers["other_teacher"])
    assert response.status_code == 204
    await drain(app.state.outbox_relay)
    assert fake_indexer.documents == {}
    assert len(fake_indexer.calls_to("DELETE", "/api/v1/documents/")) == 2


async def test_a_failing_job_goes_dead_and_an_admin_can_retry_it(
    indexer_settings: Callable[..., Settings],
    database: Database,
    fake_indexer: FakeIndexer,
) -> None:
    async with running_app(indexer_settings(outbox_max_attempts=2)) as (app, client):
        world = await index_world(database, client)
        await upload(client, world, b"garbage answers\n")
        fake_indexer.set_mode("wrongshape")
        await drain(app.state.outbox_relay, rounds=3)
        [job] = await outbox_rows(database)
        assert (job.status, job.attempts) == (OutboxStatus.DEAD, 2)
        lecture = await lecture_row(database, world.lecture.id)
        assert lecture is not None and lecture.index_status is IndexStatus.FAILED

        admin = world.headers["admin"]
        listed = await client.get("/api/v1/admin/outbox?status=dead", headers=admin)
        assert listed.status_code == 200
        assert [e["id"] for e in listed.json()["events"]] == [job.id]
        fake_indexer.set_mode("healthy")
        retried = await client.post(f"/api/v1/admin/outbox/{job.id}/retry", headers=admin)
        assert retried.status_code == 200
        assert retried.json()["status"] == "pending"
        again = await client.post(f"/api/v1/admin/outbox/{job.id}/retry", headers=admin)
        assert again.status_code == 409
        await drain(app.state.outbox_relay)
        lecture = await lecture_row(database, world.lecture.id)
        assert lecture is not None and lecture.index_status is IndexStatus.COMPLETED


async def test_studyindexer_failing_the_document_is_recorded(
    indexed: Pair, database: Database, fake_indexer: FakeIndexer
) -> None:
    app, client = indexed
    world = await index_world(database, client)
    fake_indexer.fail_processing = True
    await upload(client, world, b"unprocessable\n")
    await drain(app.state.outbox_relay)
    [job] = await outbox_rows(database)
    assert job.status is OutboxStatus.FAILED
    lecture = await lecture_row(database, world.lecture.id)
    assert lecture is not None and lecture.index_status is IndexStatus.FAILED


async def test_background_loop_delivers_and_stops_cleanly(
    indexer_settings: Callable[..., Settings],
    database: Database,
    fake_indexer: FakeIndexer,
) -> None:
    settings = indexer_settings(outbox_relay_enabled=True, outbox_poll_seconds=0.05)
    async with running_app(settings) as (app, client):
        relay = app.state.outbox_relay
        assert relay.running
        world = await index_world(database, client)
        await upload(client, world, b"background\n")
        # Waits for an event (the upload reaching the fake), with a generous cap; asserts no time.
        for _ in range(1000):
            if fake_indexer.calls_to("POST", "/api/v1/documents"):
                break
            await asyncio.sleep(0.01)
        assert fake_indexer.calls_to("POST", "/api/v1/documents")
    assert not relay.running
