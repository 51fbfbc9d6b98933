from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class CheckStatus(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"
    DISABLED = "disabled"


class Liveness(BaseModel):
    status: str = Field(default="ok", examples=["ok"])


class Check(BaseModel):
    status: CheckStatus
    latency_ms: float | None = None
    backend: str | None = Field(default=None, examples=["sqlite", "redis"])


class Checks(BaseModel):
    database: Check
    cache: Check
    indexer: Check


class Readiness(BaseModel):
    status: CheckStatus = Field(examples=["ok"])
    checks: Checks
