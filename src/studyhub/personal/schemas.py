from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from studyhub.core.pagination import Pagination
from studyhub.core.schemas import StrictModel
from studyhub.courses.models import IndexStatus
from studyhub.personal.models import ItemKind

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Description = Annotated[str, Field(max_length=20_000)]
NoteText = Annotated[str, Field(max_length=200_000)]


class FolderCreate(StrictModel):
    name: Name
    parent_id: Id | None = None
    description: Description = ""
    course_id: Id | None = Field(default=None, description="A course you can read")


class FolderUpdate(StrictModel):
    name: Name | None = None
    parent_id: Id | None = Field(default=None, description="Move under this folder; null: top")
    description: Description | None = None
    course_id: Id | None = None


class FolderOut(BaseModel):
    id: int
    name: str
    parent_id: int | None
    description: str
    course_id: int | None
    item_count: int
    created_at: datetime
    updated_at: datetime


class FolderList(BaseModel):
    folders: list[FolderOut]
    pagination: Pagination


class NoteCreate(StrictModel):
    title: Name
    content: NoteText = ""


class ItemUpdate(StrictModel):
    title: Name | None = None
    content: NoteText | None = Field(default=None, description="Notes only")
    folder_id: Id | None = Field(default=None, description="Move to another of your folders")


class ItemFile(BaseModel):
    name: str
    size: int
    media_type: str


class ItemOut(BaseModel):
    id: int
    folder_id: int
    title: str
    kind: ItemKind
    content: str | None = Field(description="Notes only")
    file: ItemFile | None = Field(description="Files only")
    index_status: IndexStatus
    created_at: datetime
    updated_at: datetime


class ItemList(BaseModel):
    items: list[ItemOut]
    pagination: Pagination
