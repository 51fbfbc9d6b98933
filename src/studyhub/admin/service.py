from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from studyhub.admin.blocklist import client_address, publish
from studyhub.admin.exceptions import IpBlockNotFound
from studyhub.admin.models import IpBlock
from studyhub.admin.repository import IpBlockRepository
from studyhub.core.cache import Cache
from studyhub.core.db import utcnow
from studyhub.core.errors import ValidationFailed
from studyhub.core.pagination import PageParams


@dataclass(frozen=True, slots=True)
class IpBlockView:
    block: IpBlock
    active: bool


class IpBlockService:
    """The admin block list. Flushes, never commits; every change republishes the active list."""

    def __init__(self, blocks: IpBlockRepository, cache: Cache) -> None:
        self.blocks = blocks
        self.cache = cache

    async def list(self, params: PageParams) -> tuple[list[IpBlockView], int]:
        rows, total = await self.blocks.page(offset=params.offset, limit=params.limit)
        now = utcnow()
        return [IpBlockView(b, b.expires_at is None or b.expires_at > now) for b in rows], total

    async def create(
        self,
        *,
        network: str,
        reason: str,
        expires_at: datetime | None,
        created_by: int,
        caller_ip: str,
    ) -> IpBlockView:
        if _contains(network, caller_ip):
            # Locking the only admin out of the API is not undoable through the API.
            raise ValidationFailed(details={"network": ["would block your own address"]})
        block = await self.blocks.add(
            IpBlock(network=network, reason=reason, expires_at=expires_at, created_by=created_by)
        )
        await self._publish()
        return IpBlockView(block, expires_at is None or expires_at > utcnow())

    async def get(self, block_id: int) -> IpBlockView:
        block = await self.blocks.get(block_id)
        if block is None:
            raise IpBlockNotFound
        return IpBlockView(block, block.expires_at is None or block.expires_at > utcnow())

    async def delete(self, block_id: int) -> None:
        view = await self.get(block_id)
        await self.blocks.delete(view.block)
        await self._publish()

    async def _publish(self) -> None:
        await publish(self.cache, await self.blocks.active(utcnow()))


def _contains(network: str, ip: str) -> bool:
    """Would this block match the caller? Compared as enforcement compares (IPv4-mapped
    addresses as IPv4)."""
    address = client_address(ip)
    try:
        return address is not None and address in ipaddress.ip_network(network)
    except ValueError:
        return False
