"""Forged, tampered and malformed access tokens are all a plain 401, never a 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt

from studyhub.core.config import Settings
from studyhub.core.db import Database
from studyhub.core.security import (
    AUDIENCE,
    ISSUER,
    LEEWAY_SECONDS,
    MAX_TOKEN_LENGTH,
    AccessClaims,
    InvalidToken,
    TokenCodec,
    key_id,
)
from studyhub.users.models import User
from tests.factories import make_user
from tests.helpers import bearer, login

ME = "/api/v1/auth/me"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(user: User, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user.id),
        "sid": 1,
        "jti": "j" * 32,
        "iat": now,
        "exp": now + 600,
        "role": user.role.value,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: dict[str, Any], secret: str, alg: str = "HS256", **header: Any) -> str:
    headers = {"kid": key_id(secret), **header}
    return jwt.encode(claims, secret, algorithm=alg, headers=headers)


@pytest.fixture
async def user(database: Database) -> User:
    return await make_user(database)


async def _status(client: httpx.AsyncClient, token: str) -> httpx.Response:
    response = await client.get(ME, headers=bearer(token))
    assert response.status_code != 500
    return response


async def test_a_well_formed_token_from_our_key_works(
    client: httpx.AsyncClient, settings: Settings, user: User
) -> None:
    tokens = await login(client, user.username)
    assert (await _status(client, tokens["access_token"])).status_code == 200
    # The claims decode with the documented names.
    claims = jwt.get_unverified_claims(tokens["access_token"])
    assert set(claims) >= {"iss", "aud", "sub", "sid", "jti", "iat", "exp", "role"}
    assert jwt.get_unverified_header(tokens["access_token"])["kid"] == key_id(settings.secret_key)
    assert claims["exp"] - claims["iat"] <= 900


async def _assert_401(client: httpx.AsyncClient, token: str) -> None:
    response = await _status(client, token)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "UNAUTHORIZED"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_alg_none_is_refused(client: httpx.AsyncClient, user: User) -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims(user)).encode())
    await _assert_401(client, f"{header}.{payload}.")
    await _assert_401(client, f"{header}.{payload}")


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
async def test_other_hmac_algorithms_are_refused(
    client: httpx.AsyncClient, settings: Settings, user: User, alg: str
) -> None:
    await _assert_401(client, _sign(_claims(user), settings.secret_key, alg))


async def test_rs256_and_public_key_confusion_are_refused(
    client: httpx.AsyncClient, user: User
) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    public_der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    await _assert_401(client, jwt.encode(_claims(user), pem, algorithm="RS256"))
    # A public key used as the HMAC secret (the classic algorithm-confusion forgery).
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(_claims(user)).encode())
    for secret in (public_pem.encode(), public_der):
        signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
        await _assert_401(client, f"{header}.{body}.{_b64(signature)}")


async def test_a_wrong_key_is_refused(client: httpx.AsyncClient, user: User) -> None:
    other = "another-secret-key-of-sufficient-length-000"
    await _assert_401(client, _sign(_claims(user), other))
    # Even with our kid in the header.
    forged = jwt.encode(_claims(user), other, algorithm="HS256", headers={"kid": "x"})
    await _assert_401(client, forged)


async def test_a_tampered_payload_is_refused(
    client: httpx.AsyncClient, settings: Settings, user: User
) -> None:
    token = _sign(_claims(user), settings.secret_key)
    header, _, signature = token.split(".")
    payload = _b64(json.dumps(_claims(user, role="admin", sub="1")).encode())
    await _assert_401(client, f"{header}.{payload}.{signature}")


@pytest.mark.parametrize("claim", ["iss", "aud", "sub", "sid", "jti", "iat", "exp", "role"])
async def test_each_required_claim_is_required(
    client: httpx.AsyncClient, settings: Settings, user: User, claim: str
) -> None:
    claims = _claims(user)
    del claims[claim]
    await _assert_401(client, _sign(claims, settings.secret_key))


class _Now(int):
    """A time relative to when the test runs, not to when it was collected (a slow suite run
    would otherwise turn a "future" iat into a past one)."""


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "someone-else"},
        {"iss": "evil"},
        {"exp": _Now(-31)},
        {"iat": _Now(120)},
        {"iat": "yesterday"},
        {"iat": [1]},
        {"sub": "not-a-number"},
        {"sub": "99999999"},
        {"sid": "1; drop table"},
        {"jti": 5},
    ],
    ids=[
        "aud",
        "iss",
        "expired",
        "future-iat",
        "iat-str",
        "iat-list",
        "sub",
        "no-user",
        "sid",
        "jti",
    ],
)
async def test_invalid_claims_are_refused(
    client: httpx.AsyncClient, settings: Settings, user: User, overrides: dict[str, Any]
) -> None:
    now = int(time.time())
    resolved = {k: now + v if isinstance(v, _Now) else v for k, v in overrides.items()}
    await _assert_401(client, _sign(_claims(user, **resolved), settings.secret_key))


async def test_expiry_has_a_thirty_second_leeway(
    client: httpx.AsyncClient, settings: Settings, user: User
) -> None:
    tokens = await login(client, user.username)
    sid = jwt.get_unverified_claims(tokens["access_token"])["sid"]
    recent = _claims(user, sid=sid, exp=int(time.time()) - 10)
    assert (await _status(client, _sign(recent, settings.secret_key))).status_code == 200


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer a.b.c",
        "Bearer !!!.###.$$$",
        "Bearer " + "A" * (MAX_TOKEN_LENGTH + 1),
        "Token abc",
    ],
)
async def test_malformed_authorization_headers(client: httpx.AsyncClient, value: str) -> None:
    response = await client.get(ME, headers={"Authorization": value})
    assert response.status_code == 401
    assert response.json()["error"] == "UNAUTHORIZED"


async def test_a_20kb_header_is_refused_cleanly(client: httpx.AsyncClient) -> None:
    response = await client.get(ME, headers={"Authorization": "Bearer " + "x" * 20_000})
    assert response.status_code in {400, 401, 431}


async def test_a_token_in_the_query_string_is_ignored(
    client: httpx.AsyncClient, user: User
) -> None:
    tokens = await login(client, user.username)
    for name in ("access_token", "token"):
        response = await client.get(ME, params={name: tokens["access_token"]})
        assert response.status_code == 401


def test_codec_round_trip() -> None:
    codec = TokenCodec("s" * 40, 600)
    token, claims = codec.issue(user_id=7, session_id=3, role="student")
    decoded = codec.decode(token)
    assert (decoded.user_id, decoded.session_id, decoded.role) == (7, 3, "student")
    assert decoded.jti == claims.jti


async def test_tokens_signed_by_another_deployment_are_refused(
    user: User, client: httpx.AsyncClient
) -> None:
    other = TokenCodec("another-deployment-secret-key-0123456789", 600)
    token, _ = other.issue(user_id=user.id, session_id=1, role="admin")
    await _assert_401(client, token)


def test_a_verified_token_is_remembered_but_still_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    codec = TokenCodec("s" * 48, ttl_seconds=60)
    token, _ = codec.issue(user_id=7, session_id=3, role="student")
    assert codec.decode(token).user_id == 7
    calls = 0
    verify = codec._verify

    def counting(raw: str) -> AccessClaims:
        nonlocal calls
        calls += 1
        return verify(raw)

    monkeypatch.setattr(codec, "_verify", counting)
    assert codec.decode(token).user_id == 7
    assert calls == 0  # answered from the verified tokens
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 60 + LEEWAY_SECONDS + 1)
    with pytest.raises(InvalidToken):
        codec.decode(token)
