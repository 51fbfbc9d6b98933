"""Lecture files: checked by content and name, stored under generated names, served only to
readers, as attachments."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from studyhub.core.config import Settings
from studyhub.core.storage import MEDIA_TYPES
from tests.courses.conftest import World

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def _files_dir(settings: Settings) -> Path:
    return settings.upload_dir / "files"


async def _upload(
    client: httpx.AsyncClient, world: World, name: str, content: bytes, caller: str = "ta"
) -> httpx.Response:
    return await client.put(
        world.url(f"/lectures/{world.lecture.id}/file"),
        files={"file": (name, content, "application/octet-stream")},
        headers=world.headers[caller],
    )


@pytest.mark.parametrize(
    ("name", "content", "media_type"),
    [
        ("slides.pdf", PDF, "application/pdf"),
        ("notes.txt", "Grüße\n".encode(), "text/plain"),
        ("notes.md", b"# Title\n", "text/markdown"),
        (
            "paper.docx",
            _docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
async def test_upload_and_download(
    client: httpx.AsyncClient,
    world: World,
    settings: Settings,
    name: str,
    content: bytes,
    media_type: str,
) -> None:
    response = await _upload(client, world, name, content)
    assert response.status_code == 200, response.text
    lecture = response.json()
    assert lecture["file"] == {"name": name, "size": len(content), "media_type": media_type}
    assert lecture["index_status"] == "pending"
    stored = [p.name for p in _files_dir(settings).iterdir()]
    assert name not in stored and all(len(p) == 32 for p in stored)

    download = await client.get(
        world.url(f"/lectures/{world.lecture.id}/file"), headers=world.headers["student"]
    )
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"].startswith(media_type)


async def test_replacing_removes_the_old_file(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    await _upload(client, world, "a.pdf", PDF)
    first = set(_files_dir(settings).iterdir())
    await _upload(client, world, "b.txt", b"second")
    second = set(_files_dir(settings).iterdir())
    assert len(second) == 1 and first.isdisjoint(second)
    deleted = await client.delete(
        world.url(f"/lectures/{world.lecture.id}"), headers=world.headers["ta"]
    )
    assert deleted.status_code == 204
    assert list(_files_dir(settings).iterdir()) == []


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("evil.exe", b"MZ\x90\x00"),
        ("fake.pdf", b"<html><script>alert(1)</script></html>"),
        ("fake.docx", PDF),
        ("binary.txt", b"\x00\x01\x02\x03"),
        ("noextension", b"hello"),
        ("page.html", b"<html></html>"),
    ],
)
async def test_wrong_types_are_415(
    client: httpx.AsyncClient, world: World, settings: Settings, name: str, content: bytes
) -> None:
    response = await _upload(client, world, name, content)
    assert (response.status_code, response.json()["error"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert not _files_dir(settings).exists() or list(_files_dir(settings).iterdir()) == []


async def test_path_traversal_names_are_neutralised(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    response = await _upload(client, world, "../../../etc/passwd.txt", b"root:x:0:0")
    assert response.status_code == 200
    assert response.json()["file"]["name"] == "passwd.txt"
    assert [p.parent for p in _files_dir(settings).iterdir()] == [_files_dir(settings)]


async def test_too_large_is_413(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    big = b"a" * (settings.max_upload_bytes + 1)
    response = await _upload(client, world, "big.txt", big)
    assert (response.status_code, response.json()["error"]) == (413, "PAYLOAD_TOO_LARGE")
    assert not _files_dir(settings).exists() or list(_files_dir(settings).iterdir()) == []


async def test_empty_file_is_400(client: httpx.AsyncClient, world: World) -> None:
    response = await _upload(client, world, "empty.txt", b"")
    assert response.status_code == 400


async def test_only_staff_upload_and_only_readers_download(
    client: httpx.AsyncClient, world: World
) -> None:
    assert (await _upload(client, world, "a.txt", b"x", caller="student")).status_code == 403
    assert (await _upload(client, world, "a.txt", b"x", caller="anonymous")).status_code == 401
    assert (await _upload(client, world, "a.txt", b"x")).status_code == 200
    url = world.url(f"/lectures/{world.lecture.id}/file")
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers=world.headers["outsider"])).status_code == 403
    draft_url = world.url(f"/lectures/{world.draft_lecture.id}/file")
    assert (await client.get(draft_url, headers=world.headers["student"])).status_code == 404


async def test_lecture_without_file_is_404(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get(
        world.url(f"/lectures/{world.lecture.id}/file"), headers=world.headers["student"]
    )
    assert response.status_code == 404


async def test_download_content_types_are_documented(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    """The file is served with its kind's media type; the schema documented only
    application/octet-stream, so a text file's response broke the contract (found by fuzzing)."""
    assert (await _upload(client, world, "notes.txt", b"Lecture notes")).status_code == 200
    response = await client.get(
        world.url(f"/lectures/{world.lecture.id}/file"), headers=world.headers["student"]
    )
    assert response.status_code == 200
    operation = app.openapi()["paths"]["/api/v1/courses/{course_id}/lectures/{lecture_id}/file"]
    documented = set(operation["get"]["responses"]["200"]["content"])
    assert response.headers["content-type"].split(";")[0] in documented
    assert documented == set(MEDIA_TYPES.values())
