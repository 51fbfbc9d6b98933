from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from studyhub.auth.cookies import (
    clear_refresh_cookies,
    refresh_token_from_cookie,
    set_refresh_cookies,
)
from studyhub.auth.dependencies import AuthServiceDep, ClientDep, CurrentUser, get_settings
from studyhub.auth.exceptions import InvalidRefreshToken
from studyhub.auth.schemas import (
    ChangePasswordRequest,
    LoginRequest,
    LogoutRequest,
    ProfileUpdate,
    RefreshRequest,
    RegisterRequest,
    SessionOut,
    SessionsResponse,
    TokenResponse,
    VerifyTokenResponse,
)
from studyhub.auth.service import IssuedTokens
from studyhub.core.config import Settings
from studyhub.core.openapi import error_responses
from studyhub.users.schemas import UserOut

router = APIRouter(prefix="/auth", tags=["auth"])
SettingsDep = Annotated[Settings, Depends(get_settings)]
AUTHED = error_responses(401)


def _token_response(
    issued: IssuedTokens, response: Response, settings: Settings, cookie: bool
) -> TokenResponse:
    if cookie:
        set_refresh_cookies(
            response, issued.refresh_token, issued.refresh_expires_in, settings.is_production
        )
    return TokenResponse(
        access_token=issued.access_token,
        expires_in=issued.access_claims.expires_at - int(issued.access_claims.issued_at),
        refresh_token=None if cookie else issued.refresh_token,
        refresh_expires_in=issued.refresh_expires_in,
        user=UserOut.model_validate(issued.user),
    )


@router.post(
    "/login",
    name="auth-login",
    summary="Log in with a username (or email) and password",
    responses=error_responses(401, 403, 429),
)
async def login(
    body: LoginRequest,
    service: AuthServiceDep,
    client: ClientDep,
    response: Response,
    settings: SettingsDep,
) -> TokenResponse:
    issued = await service.login(body.login, body.password, client)
    return _token_response(issued, response, settings, body.refresh_cookie)


@router.post(
    "/token",
    name="auth-token",
    summary="OAuth2 password flow (the /docs Authorize button)",
    responses=error_responses(401, 403, 429),
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    service: AuthServiceDep,
    client: ClientDep,
    response: Response,
    settings: SettingsDep,
) -> TokenResponse:
    issued = await service.login(form.username, form.password, client)
    return _token_response(issued, response, settings, cookie=False)


@router.post(
    "/refresh",
    name="auth-refresh",
    summary="Exchange a refresh token for new tokens (rotation)",
    responses=error_responses(401, 403),
)
async def refresh(
    request: Request,
    service: AuthServiceDep,
    response: Response,
    settings: SettingsDep,
    body: RefreshRequest | None = None,
) -> TokenResponse:
    from_body = body.refresh_token if body else None
    token_value = from_body or refresh_token_from_cookie(request)
    if token_value is None:
        raise InvalidRefreshToken
    issued = await service.refresh(token_value)
    return _token_response(issued, response, settings, cookie=from_body is None)


@router.post(
    "/logout",
    name="auth-logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End this session; this access token stops working at once",
    responses=error_responses(401, 403),
)
async def logout(
    principal: CurrentUser,
    request: Request,
    service: AuthServiceDep,
    response: Response,
    settings: SettingsDep,
    body: LogoutRequest | None = None,
) -> None:
    token_value = (body.refresh_token if body else None) or refresh_token_from_cookie(request)
    await service.logout(principal, token_value)
    clear_refresh_cookies(response, settings.is_production)


@router.post(
    "/logout-all",
    name="auth-logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End every session and access token of the caller",
    responses=AUTHED,
)
async def logout_all(principal: CurrentUser, service: AuthServiceDep) -> None:
    await service.logout_all(principal.user_id)


@router.get("/me", name="auth-me", summary="The caller's profile", responses=AUTHED)
async def me(principal: CurrentUser, service: AuthServiceDep) -> UserOut:
    return UserOut.model_validate(await service.me(principal))


@router.get(
    "/verify-token", name="auth-verify-token", summary="Check an access token", responses=AUTHED
)
async def verify_token(principal: CurrentUser, service: AuthServiceDep) -> VerifyTokenResponse:
    return VerifyTokenResponse(valid=True, user=UserOut.model_validate(await service.me(principal)))


@router.patch(
    "/me",
    name="auth-update-me",
    summary="Update the caller's name or email",
    responses=error_responses(401, 409),
)
async def update_me(
    body: ProfileUpdate, principal: CurrentUser, service: AuthServiceDep
) -> UserOut:
    user = await service.update_profile(
        principal, first_name=body.first_name, last_name=body.last_name, email=body.email
    )
    return UserOut.model_validate(user)


@router.post(
    "/change-password",
    name="auth-change-password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change the password; other sessions end, this one must refresh",
    responses=AUTHED,
)
async def change_password(
    body: ChangePasswordRequest, principal: CurrentUser, service: AuthServiceDep
) -> None:
    await service.change_password(principal, body.current_password, body.new_password)


@router.post(
    "/register",
    name="auth-register",
    status_code=status.HTTP_201_CREATED,
    summary="Create a student account (when registration is enabled)",
    responses=error_responses(403, 409, 429),
)
async def register(body: RegisterRequest, service: AuthServiceDep, response: Response) -> UserOut:
    user = await service.register(
        username=body.username,
        email=str(body.email),
        password=body.password,
        first_name=body.first_name,
        last_name=body.last_name,
    )
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    return UserOut.model_validate(user)


@router.get(
    "/sessions", name="auth-sessions-list", summary="The caller's live sessions", responses=AUTHED
)
async def list_sessions(principal: CurrentUser, service: AuthServiceDep) -> SessionsResponse:
    views = await service.list_sessions(principal)
    return SessionsResponse(
        sessions=[
            SessionOut(
                id=v.session.id,
                created_at=v.session.created_at,
                last_used_at=v.session.last_used_at,
                expires_at=v.session.expires_at,
                user_agent=v.session.user_agent,
                ip=v.session.ip,
                current=v.current,
            )
            for v in views
        ]
    )


@router.delete(
    "/sessions/{session_id}",
    name="auth-sessions-revoke",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End one of the caller's sessions",
    responses=error_responses(401, 404),
)
async def revoke_session(session_id: int, principal: CurrentUser, service: AuthServiceDep) -> None:
    await service.revoke_session(principal, session_id)
