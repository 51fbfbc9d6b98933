"""Auth dependencies: who is calling (`CurrentUser`), role guards, and the auth service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param

from studyhub.auth.exceptions import InvalidAccessToken
from studyhub.auth.repository import SessionRepository
from studyhub.auth.service import AuthService, ClientInfo, Principal
from studyhub.auth.state import AuthStateStore
from studyhub.core.clientip import client_ip
from studyhub.core.config import Settings
from studyhub.core.db import SessionDep
from studyhub.core.errors import Forbidden
from studyhub.core.security import InvalidToken, TokenCodec
from studyhub.courses.cache import CourseCache
from studyhub.users.models import UserRole
from studyhub.users.repository import UserReader, UserRepository


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_codec(request: Request) -> TokenCodec:
    codec: TokenCodec = request.app.state.token_codec
    return codec


async def get_client(request: Request) -> ClientInfo:
    settings: Settings = request.app.state.settings
    return ClientInfo(
        ip=client_ip(request, settings.trusted_proxy_networks),
        user_agent=request.headers.get("user-agent", "")[:255],
    )


ClientDep = Annotated[ClientInfo, Depends(get_client)]


class AccessTokenAuth(OAuth2PasswordBearer):
    """The caller (`CurrentUser`), from the `Authorization: Bearer` access token.

    A security scheme instance, so it is documented as one (OAuth2 password flow: /docs'
    Authorize logs in with a username and password); `core.openapi` also documents the same
    header as a plain bearer token a client can paste. One dependency rather than a scheme
    dependency per documented scheme plus this one: FastAPI resolves every dependency on every
    request, and this runs on nearly all of them.
    """

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
        if not token or scheme.lower() != "bearer":
            raise InvalidAccessToken
        try:
            claims = get_codec(request).decode(token)
        except InvalidToken:
            raise InvalidAccessToken from None
        store = AuthStateStore(request.app.state.cache)
        check = await store.check(
            UserReader(request.app.state.database),
            user_id=claims.user_id,
            jti=claims.jti,
            session_id=claims.session_id,
        )
        state = check.state
        if (
            check.denied
            or state is None
            or not state.is_active
            or (
                state.tokens_valid_after is not None and claims.issued_at < state.tokens_valid_after
            )
        ):
            raise InvalidAccessToken
        request.scope.setdefault("state", {})["user_id"] = claims.user_id
        # The role comes from the user's current state, not the token: a demotion bites at once.
        return Principal(
            user_id=claims.user_id,
            role=state.role,
            session_id=claims.session_id,
            jti=claims.jti,
            token_expires_at=claims.expires_at,
        )


current_principal = AccessTokenAuth(
    tokenUrl="/api/v1/auth/token", auto_error=False, scheme_name="OAuth2Password"
)


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: UserRole) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only the given global roles through (admin always passes)."""
    allowed = frozenset(roles) | {UserRole.ADMIN}

    async def guard(principal: CurrentUser) -> Principal:
        if principal.role not in allowed:
            raise Forbidden("Your role may not do this")
        return principal

    return guard


AdminUser = Annotated[Principal, Depends(require_roles(UserRole.ADMIN))]
StaffUser = Annotated[Principal, Depends(require_roles(UserRole.TEACHER, UserRole.TA))]


async def get_auth_service(request: Request, session: SessionDep) -> AuthService:
    state = request.app.state
    return AuthService(
        users=UserRepository(session),
        credentials=UserReader(state.database),
        sessions=SessionRepository(session),
        passwords=state.passwords,
        codec=state.token_codec,
        state=AuthStateStore(state.cache, session),
        throttle=state.login_throttle,
        settings=state.settings,
        courses=CourseCache(state.course_cache, session),
    )


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
