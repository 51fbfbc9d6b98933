"""ASVS 5.0 V6 Authentication: brute-force controls that cannot be side-stepped with proxy
headers (V6.3.1), and no user enumeration through login or lookups (V6.3.8).

Covered elsewhere:
- tests/core/test_ratelimit.py::test_rotating_forwarded_for_does_not_escape_the_account_lock
- tests/core/test_ratelimit.py::test_account_locks_after_five_failures_even_for_the_right_password
- tests/core/test_ratelimit.py::test_twenty_failures_from_one_ip_lock_it_and_block_it_from_the_api
- tests/core/test_ratelimit.py::test_forwarded_for_from_an_untrusted_peer_is_ignored (API quota)
- tests/core/test_ratelimit.py::test_forwarded_for_from_a_trusted_proxy_names_the_client
- tests/auth/test_login.py::test_unknown_user_and_wrong_password_look_identical
- tests/auth/test_login.py::test_disabled_account_is_told_only_after_the_right_password
- tests/auth/test_login.py::test_passwords_are_never_truncated
- tests/auth/test_login.py::test_register (409 USERNAME_TAKEN / EMAIL_TAKEN: the documented
  contract of API.md §1, kept; registration reveals that a name is taken by design)
- tests/auth/test_tokens.py (JWT algorithm pinning, claims, expiry: V9)
- tests/auth/test_refresh.py, tests/auth/test_revocation.py (V7 session management)

There is no password-reset flow to test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from studyhub.core.db import Database
from studyhub.users.models import User, UserRole
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.helpers import auth_headers

LOGIN = "/api/v1/auth/login"
PEER = ("198.51.100.7", 40000)
PROXY = ("10.0.0.5", 40000)
LIMITS = {"login_max_failures_per_account": 3, "login_max_failures_per_ip": 6}


def _spoof(n: int) -> list[dict[str, str]]:
    """Every way a client might claim another address."""
    return [
        {"X-Forwarded-For": f"192.0.2.{n}"},
        {"X-Forwarded-For": f"192.0.2.{n}, 192.0.2.{n + 100}"},
        {"X-Real-IP": f"192.0.2.{n}"},
        {"Forwarded": f"for=192.0.2.{n};proto=https"},
        {"X-Client-IP": f"192.0.2.{n}", "True-Client-IP": f"192.0.2.{n}"},
        {"CF-Connecting-IP": f"192.0.2.{n}", "X-Cluster-Client-IP": f"192.0.2.{n}"},
    ]


@asynccontextmanager
async def _client(
    make_app: Callable[..., FastAPI], peer: tuple[str, int] = PEER, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(**{**LIMITS, **settings})
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=peer)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def _login(
    client: httpx.AsyncClient, username: str, password: str, headers: dict[str, str]
) -> httpx.Response:
    return await client.post(
        LOGIN, json={"username": username, "password": password}, headers=headers
    )


@pytest.mark.parametrize("variant", range(len(_spoof(0))))
async def test_spoofed_client_address_headers_do_not_escape_the_account_lock(
    make_app: Callable[..., FastAPI], database: Database, variant: int
) -> None:
    user = await make_user(database)
    async with _client(make_app) as client:
        for n in range(LIMITS["login_max_failures_per_account"]):
            response = await _login(client, user.username, "wrong-password", _spoof(n)[variant])
            assert response.status_code == 401
        locked = await _login(client, user.username, DEFAULT_PASSWORD, _spoof(99)[variant])
        assert locked.status_code == 429, locked.text


@pytest.mark.parametrize("trusted", [[], ["10.0.0.0/8"]], ids=["no-proxy", "proxy-configured"])
async def test_spoofed_headers_do_not_escape_the_ip_lock(
    make_app: Callable[..., FastAPI], database: Database, trusted: list[str]
) -> None:
    """From an untrusted socket, every header naming another client is ignored: failures against
    different accounts with a different claimed address each time still lock the one real IP."""
    user = await make_user(database)
    async with _client(make_app, trusted_proxies=trusted) as client:
        for n in range(LIMITS["login_max_failures_per_ip"]):
            headers = _spoof(n)[n % len(_spoof(n))]
            response = await _login(client, f"nobody{n}", "wrong-password", headers)
            assert response.status_code == 401, (n, response.text)
        for headers in _spoof(200):
            blocked = await _login(client, user.username, DEFAULT_PASSWORD, headers)
            assert blocked.status_code == 429, (headers, blocked.text)
            assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 429


async def test_behind_a_trusted_proxy_prepended_addresses_are_ignored(
    make_app: Callable[..., FastAPI], database: Database
) -> None:
    """The proxy appends the real client to X-Forwarded-For; whatever the client put in front of
    it (or in X-Real-IP / Forwarded, which this proxy does not set) does not move the lock."""
    user = await make_user(database)
    async with _client(make_app, peer=PROXY, trusted_proxies=["10.0.0.0/8"]) as client:
        for n in range(LIMITS["login_max_failures_per_ip"]):
            headers = {
                "X-Forwarded-For": f"192.0.2.{n}, 203.0.113.9",
                "X-Real-IP": f"192.0.2.{n}",
                "Forwarded": f"for=192.0.2.{n}",
            }
            response = await _login(client, f"ghost{n}", "wrong-password", headers)
            assert response.status_code == 401
        real = {"X-Forwarded-For": "192.0.2.77, 203.0.113.9"}
        assert (await _login(client, user.username, DEFAULT_PASSWORD, real)).status_code == 429
        # Another client behind the same proxy is not affected: the lock is on the client.
        other = {"X-Forwarded-For": "203.0.113.10"}
        assert (await _login(client, user.username, DEFAULT_PASSWORD, other)).status_code == 200


# -- enumeration -------------------------------------------------------------------------------


def _comparable(response: httpx.Response) -> tuple[int, dict[str, Any], dict[str, str]]:
    body = dict(response.json())
    body.pop("request_id", None)
    varying = {"x-request-id", "x-ratelimit-remaining", "x-ratelimit-reset", "content-length"}
    headers = {k: v for k, v in response.headers.items() if k not in varying}
    return response.status_code, body, headers


async def _deactivated(database: Database) -> User:
    user = await make_user(database)
    async with database.session() as session:
        await session.execute(update(User).where(User.id == user.id).values(is_active=False))
        await session.commit()
    return user


async def test_login_answers_are_identical_for_unknown_wrong_and_inactive(
    client: httpx.AsyncClient, database: Database
) -> None:
    active = await make_user(database)
    inactive = await _deactivated(database)
    answers = {}
    for name, login in {
        "unknown username": "nobody-at-all",
        "unknown email": "nobody@example.org",
        "wrong password": active.username,
        "wrong password by email": active.email,
        "inactive, wrong password": inactive.username,
        "inactive by email, wrong password": inactive.email,
    }.items():
        response = await client.post(LOGIN, json={"username": login, "password": "wrong-pass"})
        answers[name] = _comparable(response)
        form = await client.post(
            "/api/v1/auth/token", data={"username": login, "password": "wrong-pass"}
        )
        answers[f"{name} (form)"] = _comparable(form)
    json_answers = {k: v for k, v in answers.items() if not k.endswith("(form)")}
    form_answers = {k: v for k, v in answers.items() if k.endswith("(form)")}
    assert len({repr(v) for v in json_answers.values()}) == 1, json_answers
    assert len({repr(v) for v in form_answers.values()}) == 1, form_answers
    assert next(iter(json_answers.values()))[0] == 401


async def test_a_locked_unknown_account_looks_like_a_locked_real_one(
    make_app: Callable[..., FastAPI], database: Database
) -> None:
    user = await make_user(database)
    async with _client(make_app, login_max_failures_per_ip=100) as client:
        answers = []
        for login in (user.username, "never-registered"):
            for _ in range(LIMITS["login_max_failures_per_account"]):
                assert (await _login(client, login, "wrong-password", {})).status_code == 401
            locked = await _login(client, login, "wrong-password", {})
            status, body, headers = _comparable(locked)
            headers.pop("retry-after")  # seconds remaining: may differ by one between the two
            answers.append((status, body, headers))
        assert answers[0] == answers[1]
        assert answers[0][0] == 429


async def test_user_lookups_by_non_admins_do_not_reveal_existence(
    client: httpx.AsyncClient, database: Database
) -> None:
    student = await make_user(database)
    teacher = await make_user(database, role=UserRole.TEACHER)
    existing = await make_user(database)
    for caller in (student, teacher):
        headers = await auth_headers(client, caller.username)
        for method, suffix, json in (
            ("GET", "", None),
            ("PATCH", "", {"first_name": "x"}),
            ("DELETE", "/sessions", None),
        ):
            found = await client.request(
                method, f"/api/v1/users/{existing.id}{suffix}", headers=headers, json=json
            )
            missing = await client.request(
                method, f"/api/v1/users/{2**31 - 1}{suffix}", headers=headers, json=json
            )
            assert _comparable(found) == _comparable(missing), (method, suffix)
            assert found.status_code == 403
            assert existing.username not in found.text
        search = await client.get(f"/api/v1/users?search={existing.username}", headers=headers)
        assert search.status_code == 403
        assert existing.username not in search.text
