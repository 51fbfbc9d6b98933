from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from studyhub.admin.outbox import OutboxAdminService
from studyhub.admin.repository import IpBlockRepository
from studyhub.admin.service import IpBlockService
from studyhub.admin.stats import StatsRepository
from studyhub.core.db import SessionDep
from studyhub.outbox.repository import OutboxRepository


async def get_ip_block_service(request: Request, session: SessionDep) -> IpBlockService:
    return IpBlockService(IpBlockRepository(session), request.app.state.cache)


IpBlockServiceDep = Annotated[IpBlockService, Depends(get_ip_block_service)]


async def get_outbox_admin_service(session: SessionDep) -> OutboxAdminService:
    return OutboxAdminService(OutboxRepository(session))


OutboxAdminServiceDep = Annotated[OutboxAdminService, Depends(get_outbox_admin_service)]


async def get_stats_repository(session: SessionDep) -> StatsRepository:
    return StatsRepository(session)


StatsDep = Annotated[StatsRepository, Depends(get_stats_repository)]
