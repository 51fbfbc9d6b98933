"""Tokens: the one JWT wrapper (python-jose) and opaque refresh tokens.

Every access token is decoded here and nowhere else (an architecture test enforces it), with the
algorithm pinned, every claim required, audience and issuer checked, and a 30 s leeway.

python-jose is imported by the first token issued or decoded, not with this module: it loads its
cryptography backend, ~25 ms of every process's startup (/health/ready never needs it). Once
loaded, the import in `issue`/`decode` is a dictionary lookup.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from studyhub.core.localcache import LocalCache

ALGORITHM = "HS256"
ISSUER = "studyhub"
AUDIENCE = "studyhub-api"
LEEWAY_SECONDS = 30
REQUIRED_CLAIMS = ("iss", "aud", "sub", "sid", "jti", "iat", "exp", "role")
# Far above any token we issue (~400 bytes): longer input is refused before any parsing.
MAX_TOKEN_LENGTH = 4096
VERIFIED_TOKENS = 4096  # about 2 MB at most


class InvalidToken(Exception):
    """The token is malformed, forged, expired or otherwise unusable. Never says which."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    session_id: int
    jti: str
    role: str
    issued_at: float
    expires_at: int


def key_id(secret: str) -> str:
    """A public, stable name for the signing key (lets a future key rotation pick the key)."""
    return hashlib.sha256(b"studyhub-kid:" + secret.encode()).hexdigest()[:16]


class TokenCodec:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret = secret
        self._kid = key_id(secret)
        self.ttl_seconds = ttl_seconds
        # Tokens already verified: a client sends the same token with every request, and
        # checking its signature and claims again costs more than the rest of a cached read.
        # Only expiry depends on the time; it is checked again on every use.
        self._verified: LocalCache[AccessClaims] = LocalCache(VERIFIED_TOKENS, ttl_seconds)

    def issue(self, *, user_id: int, session_id: int, role: str) -> tuple[str, AccessClaims]:
        now = time.time()
        # `iat` keeps milliseconds: revocation by `tokens_valid_after` must separate a token issued
        # just before a logout-all from one issued just after it, within the same second.
        claims = AccessClaims(
            user_id=user_id,
            session_id=session_id,
            jti=uuid.uuid4().hex,
            role=role,
            issued_at=round(now, 3),
            expires_at=int(now) + self.ttl_seconds,
        )
        payload = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(user_id),
            "sid": session_id,
            "jti": claims.jti,
            "iat": claims.issued_at,
            "exp": claims.expires_at,
            "role": role,
        }
        from jose import jwt  # imported on first use: see the module docstring

        token = jwt.encode(payload, self._secret, algorithm=ALGORITHM, headers={"kid": self._kid})
        return token, claims

    def decode(self, token: str) -> AccessClaims:
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token)
            self._verified.put(token, claims)
        elif claims.expires_at + LEEWAY_SECONDS < time.time():
            raise InvalidToken
        return claims

    def _verify(self, token: str) -> AccessClaims:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken
        # Imported on first use (see the module docstring); outside the try, so that a broken
        # install is a 500, not a 401.
        from jose import jwt

        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != ALGORITHM or header.get("kid") != self._kid:
                raise InvalidToken
            payload: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={
                    "require_aud": True,
                    "require_iat": True,
                    "require_exp": True,
                    "require_iss": True,
                    "require_sub": True,
                    "require_jti": True,
                    "leeway": LEEWAY_SECONDS,
                },
            )
            return _claims(payload)
        except InvalidToken:
            raise
        except Exception as exc:  # any parsing or validation failure is the same answer
            raise InvalidToken from exc


def _claims(payload: dict[str, Any]) -> AccessClaims:
    if any(payload.get(name) in (None, "") for name in REQUIRED_CLAIMS):
        raise InvalidToken
    issued_at = payload["iat"]
    sid, role, jti, exp = payload["sid"], payload["role"], payload["jti"], payload["exp"]
    if not (
        isinstance(issued_at, int | float)
        and isinstance(exp, int | float)
        and isinstance(sid, int)
        and isinstance(role, str)
        and isinstance(jti, str)
        and str(payload["sub"]).isascii()
        and str(payload["sub"]).isdigit()
    ):
        raise InvalidToken
    if issued_at > time.time() + LEEWAY_SECONDS:
        raise InvalidToken  # issued in the future: forged or from a badly wrong clock
    return AccessClaims(
        user_id=int(payload["sub"]),
        session_id=sid,
        jti=jti,
        role=role,
        issued_at=float(issued_at),
        expires_at=int(exp),
    )


def new_refresh_token() -> str:
    """256 random bits, URL-safe. Only its hash is stored."""
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)
