"""ASVS 5.0 V5 File Handling: uploads stay inside the upload directory under server-generated
names (V5.3.2), are accepted by content as well as by name (V5.2.2), and downloads are served
as attachments that browsers will not sniff or render (V5.4.1, V3.2.1).

Both upload endpoints are exercised: a lecture file (staff) and a personal file (any user).

Covered elsewhere:
- tests/courses/test_files.py::test_path_traversal_names_are_neutralised (`../../../etc/passwd.txt`)
- tests/courses/test_files.py::test_wrong_types_are_415 (exe, html-as-pdf, pdf-as-docx, binary
  txt, no extension, .html on the lecture endpoint)
- tests/courses/test_files.py::test_upload_and_download (attachment + nosniff for lectures)
- tests/courses/test_files.py::test_too_large_is_413, ::test_empty_file_is_400
- tests/personal/test_personal.py::test_files_upload_download_and_folder_delete
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from studyhub.core.config import Settings
from studyhub.core.db import Database
from tests.security.world import API, Side, build_side

Upload = Callable[[str, bytes, str], Awaitable[httpx.Response]]
Download = Callable[[httpx.Response], Awaitable[httpx.Response]]
STORAGE_NAME = re.compile(r"^[0-9a-f]{32}$")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _docx_without_document() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", "<script>alert(1)</script>")
    return buffer.getvalue()


@pytest.fixture(params=["lecture", "personal"])
async def endpoint(
    request: pytest.FixtureRequest,
    client: httpx.AsyncClient,
    database: Database,
    settings: Settings,
) -> tuple[Upload, Download]:
    side: Side = await build_side(database, settings, client, "files")
    if request.param == "lecture":
        url = f"{API}/courses/{side.course.id}/lectures/{side.lecture.id}/file"

        async def upload(name: str, content: bytes, media_type: str) -> httpx.Response:
            files = {"file": (name, content, media_type)}
            return await client.put(url, files=files, headers=side.headers["teacher"])

        async def download(_: httpx.Response) -> httpx.Response:
            return await client.get(url, headers=side.headers["student"])

        return upload, download
    owner = side.headers["student"]
    folder = await client.post(f"{API}/personal/folders", json={"name": "F"}, headers=owner)
    items = f"{API}/personal/folders/{folder.json()['id']}/items"

    async def upload_personal(name: str, content: bytes, media_type: str) -> httpx.Response:
        return await client.post(items, files={"file": (name, content, media_type)}, headers=owner)

    async def download_personal(created: httpx.Response) -> httpx.Response:
        item_id = created.json()["id"]
        return await client.get(f"{API}/personal/items/{item_id}/download", headers=owner)

    return upload_personal, download_personal


def _stored(settings: Settings) -> list[Path]:
    return [p for p in settings.upload_dir.rglob("*") if p.is_file()]


TRAVERSALS = [
    "../../../../etc/passwd.txt",
    "/etc/passwd.txt",
    "..\\..\\..\\windows\\win.ini.txt",
    "C:\\Windows\\System32\\evil.txt",
    "....//....//etc/shadow.txt",
    "%2e%2e%2f%2e%2e%2fescape.txt",
    "..%c0%af..%c0%afescape.txt",
    "/dev/null/../../x.txt",
    "notes\x00.txt",
    "a\r\nSet-Cookie: sid=1; x=.txt",
    'quote".txt',
    "..",
]


@pytest.mark.parametrize("name", TRAVERSALS, ids=range(len(TRAVERSALS)))
async def test_filenames_never_leave_the_upload_directory(
    endpoint: tuple[Upload, Download], settings: Settings, name: str
) -> None:
    upload, download = endpoint
    outside_before = {p for p in settings.upload_dir.parent.rglob("*") if p.is_file()}
    created = await upload(name, b"harmless text\n", "text/plain")
    assert created.status_code in {200, 201, 400, 415}, created.text
    stored = _stored(settings)
    # Every stored file is directly in <upload_dir>/files under a 32-hex name of our own.
    assert all(p.parent == settings.upload_dir / "files" for p in stored), stored
    assert all(STORAGE_NAME.match(p.name) for p in stored), stored
    outside_after = {p for p in settings.upload_dir.parent.rglob("*") if p.is_file()}
    assert outside_after - outside_before <= set(stored)
    if created.status_code not in {200, 201}:
        return
    shown = created.json()["file"]["name"]
    assert "/" not in shown and "\\" not in shown and not shown.startswith(".")
    assert not any(ch in shown for ch in '\x00\r\n"')
    got = await download(created)
    assert got.status_code == 200
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment")
    assert "\r" not in disposition and "\n" not in disposition and "set-cookie" not in got.headers
    for value in re.findall(r"filename\*?=([^;]+)", disposition):
        name_sent = unquote(value.removeprefix("utf-8''").strip('"'))
        assert "/" not in name_sent and "\\" not in name_sent and not name_sent.startswith(".")


LIES = [
    ("html-as-pdf.pdf", b"<!doctype html><script>alert(1)</script>", "application/pdf"),
    ("upper.PDF", b"<html><body onload=alert(1)>", "application/pdf"),
    ("exe.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "application/pdf"),
    ("exe.txt", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "text/plain"),
    ("elf.md", b"\x7fELF\x02\x01\x01\x00", "text/markdown"),
    ("polyglot.pdf", b"<html><script>alert(1)</script>\n" + PDF, "application/pdf"),
    ("zip.docx", _docx_without_document(), "application/octet-stream"),
    ("page.pdf.html", PDF, "application/pdf"),
    ("image.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml"),
    ("page.htm", b"<html></html>", "text/plain"),
    ("script.js", b"alert(1)", "text/plain"),
    ("utf16.txt", "<script>".encode("utf-16"), "text/plain"),
]


@pytest.mark.parametrize(("name", "content", "declared"), LIES, ids=[n for n, _, _ in LIES])
async def test_content_that_lies_about_its_type_is_415(
    endpoint: tuple[Upload, Download],
    settings: Settings,
    name: str,
    content: bytes,
    declared: str,
) -> None:
    upload, _ = endpoint
    before = _stored(settings)
    response = await upload(name, content, declared)
    assert (response.status_code, response.json()["error"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert _stored(settings) == before


async def test_the_declared_media_type_is_never_trusted_nor_reflected(
    endpoint: tuple[Upload, Download],
) -> None:
    """Text that happens to contain markup is accepted as text, and served as inert text."""
    upload, download = endpoint
    markup = b"<html><script>alert(document.cookie)</script></html>\n"
    created = await upload("notes.txt", markup, "text/html")
    assert created.status_code in {200, 201}, created.text
    assert created.json()["file"]["media_type"] == "text/plain"
    got = await download(created)
    assert got.content == markup
    assert got.headers["content-type"].split(";")[0] == "text/plain"
    assert got.headers["content-disposition"].startswith("attachment")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in got.headers["content-security-policy"]
    assert "private" in got.headers["cache-control"] or "no-store" in got.headers["cache-control"]


async def test_notes_download_as_inert_markdown_attachments(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    side = await build_side(database, settings, client, "notes")
    owner = side.headers["student"]
    folder = await client.post(f"{API}/personal/folders", json={"name": "F"}, headers=owner)
    note = await client.post(
        f"{API}/personal/folders/{folder.json()['id']}/items",
        json={"title": '../"evil"\r\nX-Injected: 1', "content": "<script>alert(1)</script>"},
        headers=owner,
    )
    assert note.status_code == 201, note.text
    got = await client.get(f"{API}/personal/items/{note.json()['id']}/download", headers=owner)
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/markdown")
    assert got.headers["content-disposition"].startswith("attachment")
    assert "x-injected" not in got.headers
    assert got.headers["x-content-type-options"] == "nosniff"
