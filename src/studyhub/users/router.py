"""Users administration (API.md §2): admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from studyhub.auth.dependencies import AdminUser
from studyhub.core.http import (
    NOT_MODIFIED_RESPONSE,
    IfMatch,
    IfNoneMatch,
    compute_etag,
    conditional_read,
    set_etag,
)
from studyhub.core.openapi import error_responses
from studyhub.core.pagination import PageDep, set_link_header
from studyhub.core.schemas import BatchRowError, BatchRowStatus
from studyhub.users.admin_service import RowOutcome, UserChanges
from studyhub.users.dependencies import UserAdminServiceDep
from studyhub.users.models import UserRole
from studyhub.users.repository import UserQuery
from studyhub.users.schemas import (
    UserBatchRequest,
    UserBatchResponse,
    UserBatchRow,
    UserCreate,
    UserList,
    UserOut,
    UserSort,
    UserUpdate,
)

router = APIRouter(prefix="/users", tags=["users"])
UserId = Annotated[int, Path(description="The user's id")]
ADMIN = (401, 403)


@router.get(
    "",
    name="users-list",
    summary="List users with filters, search, sorting and pagination",
    responses=error_responses(*ADMIN),
)
async def list_users(
    _admin: AdminUser,
    service: UserAdminServiceDep,
    page: PageDep,
    request: Request,
    response: Response,
    role: UserRole | None = None,
    is_active: bool | None = None,
    search: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="Case-insensitive substring of username, email, first or last name",
        ),
    ] = None,
    sort: Annotated[UserSort, Query(description="A field; prefix `-` for descending")] = "username",
) -> UserList:
    query = UserQuery(role=role, is_active=is_active, search=search, sort=sort)
    users, total = await service.list_users(query, page)
    set_link_header(request, response, page, total)
    return UserList(users=[UserOut.model_validate(u) for u in users], pagination=page.meta(total))


@router.post(
    "",
    name="users-create",
    status_code=status.HTTP_201_CREATED,
    summary="Create a user with any role",
    responses=error_responses(*ADMIN, 409),
)
async def create_user(
    body: UserCreate,
    _admin: AdminUser,
    service: UserAdminServiceDep,
    request: Request,
    response: Response,
) -> UserOut:
    out = UserOut.model_validate(await service.create(body))
    response.headers["Location"] = request.app.url_path_for("users-get", user_id=str(out.id))
    set_etag(response, compute_etag(out))
    return out


@router.post(
    "/batch",
    name="users-batch",
    summary="Create up to 500 users; each row succeeds or fails on its own",
    responses=error_responses(*ADMIN),
)
async def create_users_batch(
    body: UserBatchRequest, _admin: AdminUser, service: UserAdminServiceDep
) -> UserBatchResponse:
    results = [_row_result(outcome) for outcome in await service.create_many(body.users)]
    created = sum(1 for r in results if r.status == "created")
    return UserBatchResponse(created=created, failed=len(results) - created, results=results)


def _row_result(outcome: RowOutcome) -> UserBatchRow:
    if outcome.user is not None:
        return UserBatchRow(index=outcome.index, status=BatchRowStatus.CREATED, id=outcome.user.id)
    error = outcome.error
    return UserBatchRow(
        index=outcome.index,
        status=BatchRowStatus.ERROR,
        error=BatchRowError(error=error.code, message=error.message, details=error.details)
        if error is not None
        else None,
    )


@router.get(
    "/{user_id}",
    name="users-get",
    response_model=UserOut,
    summary="One user (with an ETag; If-None-Match gives 304)",
    responses={**NOT_MODIFIED_RESPONSE, **error_responses(*ADMIN, 404)},
)
async def get_user(
    user_id: UserId,
    _admin: AdminUser,
    service: UserAdminServiceDep,
    response: Response,
    if_none_match: IfNoneMatch = None,
) -> UserOut | Response:
    out = UserOut.model_validate(await service.get(user_id))
    return conditional_read(out, response, if_none_match)


@router.patch(
    "/{user_id}",
    name="users-update",
    summary="Change a user; role and active-flag changes apply to live tokens at once",
    description=(
        "Send `If-Match` with the ETag of your last read to avoid overwriting someone else's "
        "change (412 if it is stale). Deactivating or setting a password ends all of the user's "
        "sessions. An admin cannot deactivate or demote themselves (409 `SELF_LOCKOUT`)."
    ),
    responses=error_responses(*ADMIN, 404, 409, 412),
)
async def update_user(
    user_id: UserId,
    body: UserUpdate,
    admin: AdminUser,
    service: UserAdminServiceDep,
    response: Response,
    if_match: IfMatch = None,
) -> UserOut:
    changes = UserChanges(**body.model_dump(exclude_unset=True))
    out = UserOut.model_validate(await service.update(admin, user_id, changes, if_match))
    set_etag(response, compute_etag(out))
    return out


@router.delete(
    "/{user_id}",
    name="users-delete",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Deactivate a user and end their sessions (their data is kept)",
    responses=error_responses(*ADMIN, 404, 409),
)
async def delete_user(user_id: UserId, admin: AdminUser, service: UserAdminServiceDep) -> None:
    await service.deactivate(admin, user_id)


@router.delete(
    "/{user_id}/sessions",
    name="users-sessions-revoke",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End all of a user's sessions; their access tokens stop working at once",
    responses=error_responses(*ADMIN, 404),
)
async def revoke_user_sessions(
    user_id: UserId, _admin: AdminUser, service: UserAdminServiceDep
) -> None:
    await service.revoke_sessions(user_id)
