"""The user administration service, built per request on the request's session."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from studyhub.auth.dependencies import AuthServiceDep
from studyhub.auth.state import AuthStateStore
from studyhub.core.db import SessionDep
from studyhub.users.admin_service import UserAdminService
from studyhub.users.repository import UserRepository


async def get_user_admin_service(
    request: Request, session: SessionDep, auth: AuthServiceDep
) -> UserAdminService:
    state = request.app.state
    return UserAdminService(
        users=UserRepository(session),
        passwords=state.passwords,
        auth=auth,
        state=AuthStateStore(state.cache, session),
    )


UserAdminServiceDep = Annotated[UserAdminService, Depends(get_user_admin_service)]
