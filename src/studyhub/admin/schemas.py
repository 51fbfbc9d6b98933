from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from studyhub.core.pagination import Pagination
from studyhub.core.schemas import StrictModel
from studyhub.outbox.models import OutboxKind, OutboxStatus, SubjectType

# ::ffff:0:0/96 holds the IPv4-mapped addresses.
_MAPPED_PREFIX = 96


class IpBlockCreate(StrictModel):
    network: str = Field(
        max_length=64,
        description=(
            "An IP address or CIDR; host bits are cleared (10.1.2.3/8 → 10.0.0.0/8) and an "
            "IPv4-mapped IPv6 network is stored as IPv4"
        ),
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
            network = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise ValueError("must be an IP address or CIDR network") from None
        mapped = network.network_address
        if (
            isinstance(mapped, ipaddress.IPv6Address)
            and mapped.ipv4_mapped
            and (network.prefixlen >= _MAPPED_PREFIX)
        ):
            # Clients are matched as IPv4 (admin/blocklist.py): store what will match them.
            v4 = f"{mapped.ipv4_mapped}/{network.prefixlen - _MAPPED_PREFIX}"
            network = ipaddress.ip_network(v4)
        return str(network)

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
