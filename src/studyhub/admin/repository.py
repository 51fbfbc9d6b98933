from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.admin.models import IpBlock


class IpBlockRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(self, *, offset: int, limit: int) -> tuple[list[IpBlock], int]:
        total = await self.session.scalar(select(func.count()).select_from(IpBlock))
        rows = await self.session.scalars(
            select(IpBlock).order_by(IpBlock.id.desc()).offset(offset).limit(limit)
        )
        return list(rows), int(total or 0)

    async def active(self, now: datetime) -> list[IpBlock]:
        rows = await self.session.scalars(
            select(IpBlock).where(or_(IpBlock.expires_at.is_(None), IpBlock.expires_at > now))
        )
        return list(rows)

    async def get(self, block_id: int) -> IpBlock | None:
        return await self.session.get(IpBlock, block_id)

    async def add(self, block: IpBlock) -> IpBlock:
        self.session.add(block)
        await self.session.flush()
        return block

    async def delete(self, block: IpBlock) -> None:
        await self.session.delete(block)
        await self.session.flush()
