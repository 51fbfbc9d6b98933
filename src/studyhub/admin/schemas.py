from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from studyhub.core.pagination import Pagination
from studyhub.core.schemas import StrictModel
from studyhub.outbox.models import OutboxKind, OutboxStatus, SubjectType


class IpBlockCreate(StrictModel):
    network: str = Field(
        max_length=64,
        description="An IP address or CIDR; host bits are cleared (10.1.2.3/8 → 10.0.0.0/8)",
        examples=["203.0.113.0/24"],
    )
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    expires_at: datetime | None = Field(
        default=None, description="When the block ends (UTC if no offset is given); null: never"
    )

    @field_validator("network")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError("must be an IP address or CIDR network") from None

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class IpBlockOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    network: str
    reason: str
    created_at: datetime
    expires_at: datetime | None
    created_by: int | None
    active: bool = Field(description="False once `expires_at` has passed")


class IpBlocksPage(BaseModel):
    ip_blocks: list[IpBlockOut]
    pagination: Pagination


class OutboxEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: OutboxKind
    subject_type: SubjectType
    subject_id: int
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    document_id: str | None
    created_at: datetime
    updated_at: datetime


class OutboxPage(BaseModel):
    events: list[OutboxEventOut]
    pagination: Pagination
