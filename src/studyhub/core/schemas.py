"""Schema building blocks shared by every domain."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Request bodies: unknown fields are a 400, never silently dropped (no mass assignment)."""

    model_config = ConfigDict(extra="forbid")
