"""The personal knowledge base: CRUD, owner-only access (others get 404), files, and indexing."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from studyhub.core.config import Settings
from studyhub.core.db import Database
from studyhub.outbox.models import OutboxKind, OutboxStatus
from studyhub.users.models import UserRole
from tests.factories import make_course, make_user
from tests.helpers import auth_headers
from tests.support.fake_indexer import FakeIndexer
from tests.support.indexer_fixtures import drain
from tests.support.indexer_world import outbox_rows

Pair = tuple[FastAPI, httpx.AsyncClient]
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
BASE = "/api/v1/personal"


async def _two_users(
    client: httpx.AsyncClient, database: Database
) -> tuple[dict[str, str], dict[str, str]]:
    alice, bob = await make_user(database), await make_user(database)
    return await auth_headers(client, alice.username), await auth_headers(client, bob.username)


async def _folder(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    response = await client.post(
        f"{BASE}/folders", json={"name": "Biology", **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    assert response.headers["Location"].endswith(f"/folders/{response.json()['id']}")
    result: dict[str, Any] = response.json()
    return result


async def test_folders_and_notes_crud(client: httpx.AsyncClient, database: Database) -> None:
    alice, _ = await _two_users(client, database)
    parent = await _folder(client, alice)
    child = await _folder(client, alice, name="Cells", parent_id=parent["id"], description="d")
    assert (child["parent_id"], child["item_count"]) == (parent["id"], 0)
    note = await client.post(
        f"{BASE}/folders/{child['id']}/items",
        json={"title": "Mitosis", "content": "# Phases\nprophase"},
        headers=alice,
    )
    assert note.status_code == 201, note.text
    item = note.json()
    assert (item["kind"], item["content"], item["file"], item["index_status"]) == (
        "note",
        "# Phases\nprophase",
        None,
        "pending",
    )
    invalid = await client.post(
        f"{BASE}/folders/{child['id']}/items", json={"content": "no title"}, headers=alice
    )
    assert (invalid.status_code, list(invalid.json()["details"])) == (400, ["title"])
    plain = await client.post(
        f"{BASE}/folders/{child['id']}/items",
        content=b"hello",
        headers={**alice, "Content-Type": "text/plain"},
    )
    assert plain.status_code == 415
    listed = await client.get(f"{BASE}/folders", headers=alice)
    counts = {f["name"]: f["item_count"] for f in listed.json()["folders"]}
    assert counts == {"Biology": 0, "Cells": 1}
    items = await client.get(f"{BASE}/folders/{child['id']}/items", headers=alice)
    assert [i["id"] for i in items.json()["items"]] == [item["id"]]
    patched = await client.patch(
        f"{BASE}/items/{item['id']}", json={"content": "metaphase"}, headers=alice
    )
    assert patched.json()["content"] == "metaphase"
    download = await client.get(f"{BASE}/items/{item['id']}/download", headers=alice)
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/markdown")
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.text == "metaphase"
    # No cycles: a folder cannot move under its own child.
    cycle = await client.patch(
        f"{BASE}/folders/{parent['id']}", json={"parent_id": child["id"]}, headers=alice
    )
    assert cycle.status_code == 400
    moved = await client.patch(
        f"{BASE}/folders/{child['id']}", json={"parent_id": None}, headers=alice
    )
    assert moved.json()["parent_id"] is None


async def test_others_get_404_for_everything(client: httpx.AsyncClient, database: Database) -> None:
    alice, bob = await _two_users(client, database)
    folder = await _folder(client, alice)
    note = await client.post(
        f"{BASE}/folders/{folder['id']}/items",
        json={"title": "Mine", "content": "x"},
        headers=alice,
    )
    item_id = note.json()["id"]
    folder_url, item_url = f"{BASE}/folders/{folder['id']}", f"{BASE}/items/{item_id}"
    for method, url, body in [
        ("GET", folder_url, None),
        ("PATCH", folder_url, {"name": "taken"}),
        ("DELETE", folder_url, None),
        ("GET", f"{folder_url}/items", None),
        ("POST", f"{folder_url}/items", {"title": "intrude", "content": ""}),
        ("GET", item_url, None),
        ("PATCH", item_url, {"title": "taken"}),
        ("DELETE", item_url, None),
        ("GET", f"{item_url}/download", None),
    ]:
        response = await client.request(method, url, json=body, headers=bob)
        assert response.status_code == 404, (method, url, response.status_code)
    # Bob cannot file his folder under Alice's either (and learns nothing about it).
    response = await client.post(
        f"{BASE}/folders", json={"name": "x", "parent_id": folder["id"]}, headers=bob
    )
    assert response.status_code == 400
    assert (await client.get(f"{BASE}/folders", headers=bob)).json()["folders"] == []
    assert (await client.get(item_url, headers=alice)).json()["title"] == "Mine"


async def test_course_folders_need_a_readable_course(
    client: httpx.AsyncClient, database: Database
) -> None:
    alice, _ = await _two_users(client, database)
    course = await make_course(database)  # published, Alice not enrolled
    response = await client.post(
        f"{BASE}/folders", json={"name": "x", "course_id": course.id}, headers=alice
    )
    assert response.status_code == 400
    assert response.json()["details"] == {"course_id": ["not a course you can read"]}


async def test_files_upload_download_and_folder_delete(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    alice, _ = await _two_users(client, database)
    parent = await _folder(client, alice)
    child = await _folder(client, alice, name="Deep", parent_id=parent["id"])
    upload = await client.post(
        f"{BASE}/folders/{child['id']}/items",
        files={"file": ("paper.pdf", PDF, "application/pdf")},
        data={"title": "A paper"},
        headers=alice,
    )
    assert upload.status_code == 201, upload.text
    item = upload.json()
    assert item["file"] == {"name": "paper.pdf", "size": len(PDF), "media_type": "application/pdf"}
    assert item["title"] == "A paper"
    download = await client.get(f"{BASE}/items/{item['id']}/download", headers=alice)
    assert download.content == PDF
    assert download.headers["content-disposition"].startswith("attachment")
    wrong = await client.post(
        f"{BASE}/folders/{child['id']}/items",
        files={"file": ("x.docx", b"PK\x03\x04", "application/octet-stream")},
        headers=alice,
    )
    assert wrong.status_code == 415
    stored = list((settings.upload_dir / "files").iterdir())
    assert len(stored) == 1
    deleted = await client.delete(f"{BASE}/folders/{parent['id']}", headers=alice)
    assert deleted.status_code == 204
    assert (await client.get(f"{BASE}/items/{item['id']}", headers=alice)).status_code == 404
    assert (await client.get(f"{BASE}/folders/{child['id']}", headers=alice)).status_code == 404
    assert not stored[0].exists()  # the subfolder's file went after the commit


async def test_items_are_indexed_and_unindexed_through_the_outbox(
    indexed: Pair, database: Database, fake_indexer: FakeIndexer
) -> None:
    app, client = indexed
    alice, _ = await _two_users(client, database)
    folder = await _folder(client, alice)
    note = await client.post(
        f"{BASE}/folders/{folder['id']}/items",
        json={"title": "T", "content": "ribosomes"},
        headers=alice,
    )
    await drain(app.state.outbox_relay)
    [doc] = fake_indexer.documents.values()
    assert (doc.collection, doc.document_type) == ("personal", "markdown")
    assert "ribosomes" in doc.content and doc.tags[0].startswith("owner:")
    got = await client.get(f"{BASE}/items/{note.json()['id']}", headers=alice)
    assert got.json()["index_status"] == "completed"
    await client.delete(f"{BASE}/folders/{folder['id']}", headers=alice)
    await drain(app.state.outbox_relay)
    assert fake_indexer.documents == {}
    kinds = [(job.kind, job.status) for job in await outbox_rows(database)]
    assert kinds == [
        (OutboxKind.INDEX, OutboxStatus.DELIVERED),
        (OutboxKind.DELETE, OutboxStatus.DELIVERED),
    ]


async def test_admin_folder_on_a_missing_course_is_a_validation_error(
    client: httpx.AsyncClient, database: Database
) -> None:
    """Admins skip the readable-course check; a course id that does not exist broke the foreign
    key and answered 500 (found by fuzzing)."""
    admin = await make_user(database, role=UserRole.ADMIN)
    headers = await auth_headers(client, admin.username)
    response = await client.post(
        f"{BASE}/folders", json={"name": "x", "course_id": 8392779}, headers=headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["details"] == {"course_id": ["no such course"]}
    folder = await _folder(client, headers)
    response = await client.patch(
        f"{BASE}/folders/{folder['id']}", json={"course_id": 8392779}, headers=headers
    )
    assert response.status_code == 400, response.text
    assert (await client.get(f"{BASE}/folders", headers=headers)).json()["folders"][0][
        "course_id"
    ] is None
