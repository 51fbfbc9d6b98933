"""Cookie mode for refresh tokens: an HttpOnly SameSite=Strict cookie plus a readable CSRF cookie
that the client echoes in `X-CSRF-Token` (double submit)."""

from __future__ import annotations

import hmac

from fastapi import Request, Response

from studyhub.auth.exceptions import CsrfFailed
from studyhub.core.security import new_csrf_token

REFRESH_COOKIE = "studyhub_refresh"
CSRF_COOKIE = "studyhub_csrf"
CSRF_HEADER = "X-CSRF-Token"
COOKIE_PATH = "/api/v1/auth"


def set_refresh_cookies(response: Response, refresh_token: str, max_age: int, secure: bool) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        refresh_token,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        secure=secure,
        samesite="strict",
    )
    response.set_cookie(
        CSRF_COOKIE,
        new_csrf_token(),
        max_age=max_age,
        path="/",
        httponly=False,
        secure=secure,
        samesite="strict",
    )


def clear_refresh_cookies(response: Response, secure: bool) -> None:
    response.delete_cookie(
        REFRESH_COOKIE, path=COOKIE_PATH, secure=secure, httponly=True, samesite="strict"
    )
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, samesite="strict")


def refresh_token_from_cookie(request: Request) -> str | None:
    """The cookie's refresh token, once the CSRF header matches the CSRF cookie."""
    token = request.cookies.get(REFRESH_COOKIE)
    if token is None:
        return None
    expected = request.cookies.get(CSRF_COOKIE, "")
    given = request.headers.get(CSRF_HEADER, "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        raise CsrfFailed
    return token
