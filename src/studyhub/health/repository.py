from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


class HealthRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    async def ping(self) -> None:
        # Its own connection, outside the request transaction: a broken database must not leave
        # the request's session in a failed state.
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
