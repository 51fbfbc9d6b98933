"""Uploaded files on disk: checked by content and name, stored under server-generated names.

A file is written before the database row that names it commits; hooks on the request's
transaction remove it again if the transaction rolls back, and remove replaced files only once
the replacement has committed, so a failure never leaves a row pointing at nothing.
"""

from __future__ import annotations

import contextlib
import os
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from studyhub.core.db import after_commit, after_rollback
from studyhub.core.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed

CHUNK_BYTES = 1024 * 1024
_STORAGE_NAME = re.compile(r"^[0-9a-f]{32}$")


class FileKind(StrEnum):
    PDF = "pdf"
    TEXT = "txt"
    MARKDOWN = "md"
    DOCX = "docx"


MEDIA_TYPES = {
    FileKind.PDF: "application/pdf",
    FileKind.TEXT: "text/plain",
    FileKind.MARKDOWN: "text/markdown",
    FileKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True, slots=True)
class StoredFile:
    storage_name: str
    name: str
    size: int
    media_type: str
    kind: FileKind


def safe_filename(name: str | None) -> str:
    """A display name safe for Content-Disposition: no path, no control characters."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?')
    return base.strip(" .")[:255] or "file"


def _sniff(path: Path, kind: FileKind) -> bool:
    """Does the content match the kind its name claims?"""
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    if kind is FileKind.PDF:
        return head.startswith(b"%PDF-")
    if kind is FileKind.DOCX:
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(path) as archive:
                return "word/document.xml" in archive.namelist()
        except zipfile.BadZipFile:
            return False
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character may be cut at the 64 KiB boundary.
        return exc.start >= len(head) - 4
    return True


class FileStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path(self, storage_name: str) -> Path:
        if not _STORAGE_NAME.match(storage_name):
            raise ValueError("not a storage name")
        return self.root / storage_name

    async def save(self, upload: UploadFile, allowed: set[FileKind]) -> StoredFile:
        name = safe_filename(upload.filename)
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        try:
            kind = FileKind(extension)
        except ValueError:
            kind = None
        if kind is None or kind not in allowed:
            raise UnsupportedMediaType(
                f"Allowed file types: {', '.join(sorted(k.value for k in allowed))}"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        storage_name = uuid.uuid4().hex
        final = self.path(storage_name)
        partial = self.root / f"{storage_name}.part"
        size = 0
        try:
            with partial.open("wb") as handle:
                while chunk := await upload.read(CHUNK_BYTES):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise PayloadTooLarge(f"Files may be at most {self.max_bytes} bytes")
                    await run_in_threadpool(handle.write, chunk)
            if size == 0:
                raise ValidationFailed(details={"file": ["is empty"]})
            if not await run_in_threadpool(_sniff, partial, kind):
                raise UnsupportedMediaType(f"The file's content is not {kind.value}")
            partial.replace(final)
        finally:
            partial.unlink(missing_ok=True)
        return StoredFile(storage_name, name, size, MEDIA_TYPES[kind], kind)

    def delete_now(self, storage_name: str) -> None:
        with contextlib.suppress(FileNotFoundError, ValueError):
            self.path(storage_name).unlink()

    def delete_after_commit(self, session: AsyncSession, storage_name: str) -> None:
        async def remove() -> None:
            self.delete_now(storage_name)

        after_commit(session, remove)

    def delete_on_rollback(self, session: AsyncSession, storage_name: str) -> None:
        async def remove() -> None:
            self.delete_now(storage_name)

        after_rollback(session, remove)
