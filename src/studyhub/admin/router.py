from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from studyhub.admin.dependencies import IpBlockServiceDep, OutboxAdminServiceDep, StatsDep
from studyhub.admin.schemas import (
    IpBlockCreate,
    IpBlockOut,
    IpBlocksPage,
    OutboxEventOut,
    OutboxPage,
)
from studyhub.admin.service import IpBlockView
from studyhub.admin.stats import AdminStats
from studyhub.auth.dependencies import AdminUser, ClientDep
from studyhub.core.openapi import error_responses
from studyhub.core.pagination import PageDep, set_link_header
from studyhub.outbox.models import OutboxStatus

BlockId = Annotated[int, Path(ge=1, le=2**31 - 1)]

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get(
    "/stats",
    name="admin-stats",
    summary="Platform figures: users by role, courses, enrollments, activity, indexing",
    responses=error_responses(401, 403),
)
async def stats(_: AdminUser, repository: StatsDep) -> AdminStats:
    return await repository.stats()


def _out(view: IpBlockView) -> IpBlockOut:
    block = view.block
    return IpBlockOut(
        id=block.id,
        network=block.network,
        reason=block.reason,
        created_at=block.created_at,
        expires_at=block.expires_at,
        created_by=block.created_by,
        active=view.active,
    )


@router.get(
    "/ip-blocks",
    name="admin-ip-blocks-list",
    summary="Blocked addresses and networks, newest first",
    responses=error_responses(401, 403),
)
async def list_ip_blocks(
    _admin: AdminUser,
    service: IpBlockServiceDep,
    params: PageDep,
    request: Request,
    response: Response,
) -> IpBlocksPage:
    views, total = await service.list(params)
    set_link_header(request, response, params, total)
    return IpBlocksPage(ip_blocks=[_out(v) for v in views], pagination=params.meta(total))


@router.post(
    "/ip-blocks",
    name="admin-ip-blocks-create",
    status_code=status.HTTP_201_CREATED,
    summary="Block an address or CIDR network from the whole API (403 IP_BLOCKED)",
    responses=error_responses(401, 403),
)
async def create_ip_block(
    body: IpBlockCreate,
    admin: AdminUser,
    client: ClientDep,
    service: IpBlockServiceDep,
    response: Response,
) -> IpBlockOut:
    view = await service.create(
        network=body.network,
        reason=body.reason,
        expires_at=body.expires_at,
        created_by=admin.user_id,
        caller_ip=client.ip,
    )
    response.headers["Location"] = f"/api/v1/admin/ip-blocks/{view.block.id}"
    return _out(view)


@router.delete(
    "/ip-blocks/{block_id}",
    name="admin-ip-blocks-delete",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Lift a block",
    responses=error_responses(401, 403, 404),
)
async def delete_ip_block(block_id: BlockId, _admin: AdminUser, service: IpBlockServiceDep) -> None:
    await service.delete(block_id)


@router.get(
    "/ip-blocks/{block_id}",
    name="admin-ip-blocks-get",
    summary="One block",
    responses=error_responses(401, 403, 404),
)
async def get_ip_block(
    block_id: BlockId, _admin: AdminUser, service: IpBlockServiceDep
) -> IpBlockOut:
    return _out(await service.get(block_id))


@router.get(
    "/outbox",
    name="admin-outbox-list",
    summary="StudyIndexer jobs (index/delete) and their delivery state, newest first",
    responses=error_responses(401, 403),
)
async def list_outbox(
    _admin: AdminUser,
    service: OutboxAdminServiceDep,
    params: PageDep,
    request: Request,
    response: Response,
    status: Annotated[OutboxStatus | None, Query(description="Only jobs in this state")] = None,
) -> OutboxPage:
    events, total = await service.list(status, params)
    set_link_header(request, response, params, total)
    return OutboxPage(
        events=[OutboxEventOut.model_validate(e) for e in events], pagination=params.meta(total)
    )


@router.post(
    "/outbox/{event_id}/retry",
    name="admin-outbox-retry",
    summary="Queue a failed or dead job again (409 NOT_RETRYABLE otherwise)",
    responses=error_responses(401, 403, 404, 409),
)
async def retry_outbox(
    event_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    _admin: AdminUser,
    service: OutboxAdminServiceDep,
) -> OutboxEventOut:
    return OutboxEventOut.model_validate(await service.retry(event_id))
