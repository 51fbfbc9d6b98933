"""Schema building blocks shared by every domain."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class StrictModel(BaseModel):
    """Request bodies: unknown fields are a 400, never silently dropped (no mass assignment)."""

    model_config = ConfigDict(extra="forbid")


class BatchRowStatus(StrEnum):
    CREATED = "created"
    ERROR = "error"


class BatchRowError(BaseModel):
    """Why one row of a batch request failed: the error body, without a request id."""

    error: str = Field(examples=["USERNAME_TAKEN"])
    message: str
    details: dict[str, Any] | None = None
