"""Schema building blocks shared by every domain."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError


def _unstorable(value: Any) -> str | None:
    """Why a submitted value cannot be stored as text, if it cannot: PostgreSQL refuses NUL
    characters, and lone surrogates (valid in JSON escapes) are not UTF-8."""
    if isinstance(value, str):
        if "\x00" in value:
            return "must not contain NUL characters"
        if value.isascii():  # the common case, without encoding a copy
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "must be valid Unicode text"
        return None
    if isinstance(value, list | tuple | set | frozenset):
        return next(filter(None, map(_unstorable, value)), None)
    if isinstance(value, dict):
        return next(filter(None, map(_unstorable, [*value.keys(), *value.values()])), None)
    return None


_CONTAINERS = frozenset({list, tuple, set, frozenset, dict})


class StrictModel(BaseModel):
    """Request bodies: unknown fields are a 400, never silently dropped (no mass assignment).
    Text the database cannot store (NUL characters, lone surrogates) is a 400 too, on SQLite
    and PostgreSQL alike."""

    model_config = ConfigDict(extra="forbid")
    # Fields holding raw objects that are each validated as a StrictModel later (a batch's
    # rows): checking them here too would walk every row twice.
    raw_fields: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value: Any, info: ValidationInfo) -> Any:
        kind = type(value)
        if kind is str:  # the common cases first: this runs for every field of every body
            if value.isascii() and "\x00" not in value:
                return value
        elif kind not in _CONTAINERS or info.field_name in cls.raw_fields:
            return value
        problem = _unstorable(value)
        if problem is not None:
            raise PydanticCustomError("unstorable_text", problem)
        return value


class BatchRowStatus(StrEnum):
    CREATED = "created"
    ERROR = "error"


class BatchRowError(BaseModel):
    """Why one row of a batch request failed: the error body, without a request id."""

    error: str = Field(examples=["USERNAME_TAKEN"])
    message: str
    details: dict[str, Any] | None = None
