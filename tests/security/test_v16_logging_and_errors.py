"""ASVS 5.0 V16 Security Logging and Error Handling: no credentials or tokens in logs (V16.2.5),
and error responses that reveal nothing of the implementation (V16.5.1).

A realistic session runs with log capture of both sinks, stdout JSON lines and the rotating
`LOG_DIR/app.log`, at DEBUG level (the most a deployment could log).

Covered elsewhere:
- tests/ecosystem/test_observability.py::test_logs_never_carry_passwords_or_tokens (login,
  refresh and a malformed body, file sink only)
- tests/core/test_logging.py::test_secrets_are_masked (the masking patterns)
- tests/core/test_errors.py::test_crash_is_a_json_500_without_internals (a test route)
- tests/core/test_errors.py::test_unknown_route_is_a_json_404, ::test_wrong_method_is_a_json_405
- tests/core/test_db.py::test_a_locked_sqlite_database_is_a_503_not_a_500
- tests/test_cli.py::test_create_admin_reads_the_password_from_stdin (the CLI's own output)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from studyhub.core.config import Settings
from studyhub.core.db import Database
from studyhub.core.logging import configure_logging
from studyhub.seed import create_admin_user
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.security.world import API

NEW_PASSWORD = "brand new secret 4711"
REGISTER_PASSWORD = "registered secret 0815"
ADMIN_PASSWORD = "cli admin secret 9999"
WRONG = ["wrong-guess-ZQX1", "wrong-guess-ZQX2", "short7"]


async def test_a_realistic_session_leaves_no_secret_in_either_log(
    make_app: Callable[..., FastAPI],
    database: Database,
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = await make_user(database)
    secrets: list[str] = [DEFAULT_PASSWORD, NEW_PASSWORD, REGISTER_PASSWORD, ADMIN_PASSWORD, *WRONG]
    app = make_app(log_dir=tmp_path, log_level="DEBUG")
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.30", 1))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                secrets += await _session(c, user.username)
            await create_admin_user(
                app.state.settings, "sec_root", "root@example.org", ADMIN_PASSWORD
            )
    finally:
        configure_logging(settings.log_level, settings.log_dir)
    stdout = capsys.readouterr().out
    logfile = (tmp_path / "app.log").read_text(encoding="utf-8")
    for sink, text in (("stdout", stdout), ("app.log", logfile)):
        lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        access = [line for line in lines if line["logger"] == "studyhub.access"]
        assert len(access) >= 15, f"{sink}: the session was not logged"
        for secret in secrets:
            assert secret not in text, f"{sink}: a secret reached the log: {secret[:12]}..."


async def _session(client: httpx.AsyncClient, username: str) -> list[str]:
    """Log in, fail, refresh (body and cookie), change the password, register; returns the
    tokens and cookie values that were issued."""
    issued: list[str] = []
    for wrong in WRONG:
        failed = await client.post(
            f"{API}/auth/login", json={"username": username, "password": wrong}
        )
        assert failed.status_code in {400, 401}
    form = await client.post(f"{API}/auth/token", data={"username": username, "password": WRONG[0]})
    assert form.status_code == 401
    login = await client.post(
        f"{API}/auth/login", json={"username": username, "password": DEFAULT_PASSWORD}
    )
    tokens = login.json()
    issued += [tokens["access_token"], tokens["refresh_token"]]
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get(f"{API}/auth/me", headers=auth)).status_code == 200
    refreshed = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    issued += [refreshed.json()["access_token"], refreshed.json()["refresh_token"]]
    # A replayed refresh token is refused (and logged as such, without the token).
    replay = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert replay.status_code == 401
    # Cookie mode: the refresh token and the CSRF value travel as cookies and a header.
    cookie_login = await client.post(
        f"{API}/auth/login",
        json={"username": username, "password": DEFAULT_PASSWORD, "refresh_cookie": True},
    )
    assert cookie_login.status_code == 200
    cookies = dict(cookie_login.cookies)
    assert cookies, "cookie mode set no cookies"
    issued += [*cookies.values(), cookie_login.json()["access_token"]]
    csrf = next((v for k, v in cookies.items() if "csrf" in k.lower()), "")
    via_cookie = await client.post(
        f"{API}/auth/refresh", headers={"X-CSRF-Token": csrf, "Cookie": _cookie_header(cookies)}
    )
    assert via_cookie.status_code == 200, via_cookie.text
    issued += [via_cookie.json()["access_token"], *dict(via_cookie.cookies).values()]
    fresh = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    wrong_current = await client.post(
        f"{API}/auth/change-password",
        json={"current_password": WRONG[1], "new_password": NEW_PASSWORD + "x"},
        headers=fresh,
    )
    assert wrong_current.status_code == 400
    changed = await client.post(
        f"{API}/auth/change-password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        headers=fresh,
    )
    assert changed.status_code == 204, changed.text
    # The password change ended this session's access token; its refresh token still works.
    renewed = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": refreshed.json()["refresh_token"]}
    )
    assert renewed.status_code == 200, renewed.text
    issued += [renewed.json()["access_token"], renewed.json()["refresh_token"]]
    fresh = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    registered = await client.post(
        f"{API}/auth/register",
        json={
            "username": "sec_newbie",
            "email": "newbie@example.org",
            "password": REGISTER_PASSWORD,
        },
    )
    assert registered.status_code == 201
    too_short = await client.post(
        f"{API}/auth/register",
        json={"username": "sec_short", "email": "short@example.org", "password": WRONG[2]},
    )
    assert too_short.status_code == 400 and WRONG[2] not in too_short.text
    # Tokens in places they do not belong: a query string and a malformed header.
    await client.get(f"{API}/auth/me?access_token={tokens['access_token']}")
    await client.get(f"{API}/auth/me", headers={"Authorization": f"Token {tokens['access_token']}"})
    client.cookies.clear()  # else logout would act on the cookie session (and want its CSRF)
    logout = await client.post(f"{API}/auth/logout", headers=fresh)
    assert logout.status_code == 204
    return [value for value in issued if value]


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


# -- error bodies --------------------------------------------------------------------------------

_INTERNALS = [
    "Traceback",
    'File "',
    ".py",
    "/src/",
    "site-packages",
    "sqlalchemy",
    "asyncpg",
    "sqlite",
    "SELECT ",
    "INSERT ",
    "UPDATE ",
    "psycopg",
    "Exception",
    "Error:",
    "line ",
    "0x",
]


def _assert_clean(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "message", "details", "request_id"}
    for marker in _INTERNALS:
        assert marker not in response.text, f"{marker!r} in {response.text}"
    return body


@pytest.mark.parametrize(
    "failure",
    [
        RuntimeError("boom at /srv/app/src/studyhub/secret.py line 42"),
        KeyError("password_hash"),
        ValueError("SELECT * FROM users WHERE password_hash = '$argon2id$...'"),
    ],
    ids=["runtime", "key", "value"],
)
async def test_a_crash_in_a_real_operation_reveals_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
) -> None:
    from studyhub.courses.service import CourseService

    async def crash(*args: Any, **kwargs: Any) -> Any:
        raise failure

    monkeypatch.setattr(CourseService, "catalog", crash, raising=True)
    user = await make_user(database)
    login = await client.post(
        f"{API}/auth/login", json={"username": user.username, "password": DEFAULT_PASSWORD}
    )
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    response = await client.get(f"{API}/courses", headers=auth)
    body = _assert_clean(response, 500)
    assert body["error"] == "INTERNAL_ERROR"
    assert body["details"] is None
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "boom" not in response.text and "password_hash" not in response.text


async def test_a_database_error_reveals_no_sql(
    client: httpx.AsyncClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import IntegrityError

    from studyhub.courses.service import CourseService

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise IntegrityError(
            "INSERT INTO users (password_hash) VALUES ($1)", {"password_hash": "x"}, Exception()
        )

    monkeypatch.setattr(CourseService, "catalog", broken, raising=True)
    user = await make_user(database)
    login = await client.post(
        f"{API}/auth/login", json={"username": user.username, "password": DEFAULT_PASSWORD}
    )
    response = await client.get(
        f"{API}/courses", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
    )
    _assert_clean(response, 500)


async def test_framework_errors_reveal_nothing(client: httpx.AsyncClient) -> None:
    cases = [
        (await client.get(f"{API}/courses/99999999999999999999999"), {400, 401}),
        (await client.get(f"{API}/nowhere/../../etc/passwd"), {404}),
        (await client.delete("/health"), {405}),
        (
            await client.post(
                f"{API}/auth/login",
                content=b'{"username": ',
                headers={"content-type": "application/json"},
            ),
            {400},
        ),
        (
            await client.post(
                f"{API}/auth/login",
                content=b"\xff\xfe\x00",
                headers={"content-type": "application/json"},
            ),
            {400},
        ),
        (await client.post(f"{API}/auth/login", json=[1, 2, 3]), {400}),
        (
            await client.post(
                f"{API}/auth/login",
                content=b'{"username": "x", "password": 1e309}',
                headers={"content-type": "application/json"},
            ),
            {400},
        ),
        (
            await client.post(
                f"{API}/auth/token",
                content=b"%%%",
                headers={"content-type": "application/x-www-form-urlencoded"},
            ),
            {400},
        ),
        (
            await client.get(f"{API}/auth/me", headers={"Authorization": "Bearer " + "a" * 5000}),
            {401},
        ),
        (await client.get(f"{API}/courses?page=-1"), {400, 401}),
    ]
    for response, statuses in cases:
        assert response.status_code in statuses, (response.request.url, response.text)
        _assert_clean(response, response.status_code)
