from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from studyhub.core.db import Base, utcnow


class IpBlock(Base):
    """An address or CIDR network refused on every API request until `expires_at` (if set)."""

    __tablename__ = "ip_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Canonical form (`10.0.0.0/8`, `2001:db8::/32`); the longest IPv6 CIDR is 43 characters.
    network: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    # The admin who added it; kept as NULL if that user row is ever deleted.
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
