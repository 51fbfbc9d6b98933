"""What StudyIndexer answers (API.md §9), validated: a wrong shape is a 502, not a crash later."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints


def _id_as_text(value: object) -> object:
    # The contract does not say whether ids are strings or numbers; we store them as text.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


DocumentId = Annotated[
    str,
    BeforeValidator(_id_as_text),
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$"),
]
DocumentStatus = Literal["pending", "processing", "completed", "failed"]


class _Lenient(BaseModel):
    # New fields on their side must not break us.
    model_config = ConfigDict(extra="ignore")


class UploadAccepted(_Lenient):
    document_id: DocumentId
    status: str = "processing"


class DocumentInfo(_Lenient):
    document_id: DocumentId
    status: DocumentStatus
    metadata: dict[str, Any] = Field(default_factory=dict)


class Highlight(_Lenient):
    text: list[str] = Field(default_factory=list)


class Hit(_Lenient):
    document_id: DocumentId
    score: float
    content: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)
    highlight: Highlight = Field(default_factory=Highlight)


class HitPagination(_Lenient):
    current_page: int = 1
    total_pages: int = 0
    total_results: int = 0


class SearchPage(_Lenient):
    results: list[Hit]
    pagination: HitPagination = Field(default_factory=HitPagination)


class SimilarPage(_Lenient):
    results: list[Hit]


# StudyIndexer's `document_type` for each kind of file we store (API.md §9).
DOCUMENT_TYPES = {"pdf": "pdf", "txt": "text", "md": "markdown", "docx": "docx"}
