from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from studyhub.core.pagination import Pagination


class Scope(StrEnum):
    COURSES = "courses"
    PERSONAL = "personal"
    ALL = "all"


class SourceCourse(BaseModel):
    id: int
    code: str
    name: str


class SourceWeek(BaseModel):
    id: int
    number: int
    title: str


class SourceRef(BaseModel):
    id: int
    title: str


class Source(BaseModel):
    type: Literal["lecture", "personal_item"]
    course: SourceCourse | None
    week: SourceWeek | None
    lecture: SourceRef | None
    item: SourceRef | None


class SearchResult(BaseModel):
    document_id: str
    score: float
    snippet: str
    highlights: list[str]
    source: Source


class SearchResults(BaseModel):
    results: list[SearchResult]
    pagination: Pagination
    query_time_ms: float = Field(description="Time the backend spent, StudyIndexer included")


class SimilarResults(BaseModel):
    results: list[SearchResult]
