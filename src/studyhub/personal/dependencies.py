from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from studyhub.core.db import SessionDep
from studyhub.core.errors import UnsupportedMediaType, ValidationFailed, validation_details
from studyhub.courses.repository import CourseRepository
from studyhub.outbox.repository import OutboxRepository
from studyhub.personal.repository import FolderRepository, ItemRepository
from studyhub.personal.schemas import NoteCreate
from studyhub.personal.service import PersonalService


async def get_personal_service(request: Request, session: SessionDep) -> PersonalService:
    return PersonalService(
        FolderRepository(session),
        ItemRepository(session),
        CourseRepository(session),
        OutboxRepository(session),
        request.app.state.files,
    )


PersonalServiceDep = Annotated[PersonalService, Depends(get_personal_service)]


@dataclass(frozen=True, slots=True)
class FileInput:
    file: UploadFile
    title: str | None


async def item_input(request: Request) -> AsyncIterator[NoteCreate | FileInput]:
    """One endpoint takes a JSON note or a multipart file (API.md §8): decided by Content-Type."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=5)
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ValidationFailed(details={"file": ["a file is required"]})
            title = form.get("title")
            yield FileInput(upload, title if isinstance(title, str) else None)
        finally:
            await form.close()
        return
    if content_type != "application/json":
        raise UnsupportedMediaType("Send a JSON note or a multipart file")
    try:
        note = NoteCreate.model_validate(json.loads(await request.body()))
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            raise ValidationFailed(details=validation_details(exc.errors())) from None
        raise ValidationFailed("The request body could not be parsed") from None
    # Yielded outside the try: an error raised by the handler must not become a 400 here.
    yield note


ItemInputDep = Annotated[NoteCreate | FileInput, Depends(item_input)]
