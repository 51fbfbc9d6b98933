"""Login, refresh rotation with reuse detection, logout and revocation, profile and password."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from studyhub.auth.exceptions import (
    AccountDisabled,
    InvalidCredentials,
    InvalidPassword,
    InvalidRefreshToken,
    RegistrationClosed,
)
from studyhub.auth.models import AuthSession
from studyhub.auth.repository import SessionRepository
from studyhub.auth.state import AuthStateStore
from studyhub.auth.throttle import LoginThrottle
from studyhub.core.config import Settings
from studyhub.core.db import utcnow
from studyhub.core.errors import NotFound
from studyhub.core.passwords import PasswordHasher
from studyhub.core.security import (
    AccessClaims,
    TokenCodec,
    hash_refresh_token,
    new_refresh_token,
)
from studyhub.courses.cache import CourseCache
from studyhub.users.models import User, UserRole
from studyhub.users.repository import UserReader, UserRepository
from studyhub.users.service import NewUser, UserService


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the verified access token and the user's current role."""

    user_id: int
    role: UserRole
    session_id: int
    jti: str
    token_expires_at: int


@dataclass(frozen=True, slots=True)
class ClientInfo:
    ip: str
    user_agent: str


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    access_claims: AccessClaims
    refresh_token: str
    refresh_expires_in: int
    user: User


@dataclass(frozen=True, slots=True)
class SessionView:
    session: AuthSession
    current: bool


class AuthService:
    def __init__(
        self,
        *,
        users: UserRepository,
        credentials: UserReader,
        sessions: SessionRepository,
        passwords: PasswordHasher,
        codec: TokenCodec,
        state: AuthStateStore,
        throttle: LoginThrottle,
        settings: Settings,
        courses: CourseCache,
    ) -> None:
        self.users = users
        # Reads for the password check, outside the write transaction (see UserReader).
        self.credentials = credentials
        self.sessions = sessions
        self.passwords = passwords
        self.codec = codec
        self.state = state
        self.throttle = throttle
        self.settings = settings
        self.courses = courses  # course pages show their instructor's name

    # -- login and tokens -------------------------------------------------------------------

    async def login(self, login: str, password: str, client: ClientInfo) -> IssuedTokens:
        account = login.strip().lower()
        await self.throttle.ensure_allowed(client.ip, account)
        found = await self.credentials.get_by_login(account)
        # Unknown user and wrong password take the same path and time, and give the same error.
        ok, new_hash = await self.passwords.verify(password, found.password_hash if found else None)
        if found is None or not ok:
            await self.throttle.record_failure(client.ip, account)
            raise InvalidCredentials
        await self.throttle.record_success(client.ip, account)
        user = await self.users.get(found.id)  # the write transaction starts here
        if user is None:
            raise InvalidCredentials
        if not user.is_active:
            raise AccountDisabled
        if new_hash:
            user.password_hash = new_hash
        now = utcnow()
        user.last_login_at = now
        auth_session = AuthSession(
            user_id=user.id,
            created_at=now,
            last_used_at=now,
            expires_at=now + timedelta(seconds=self.settings.refresh_token_ttl_seconds),
            user_agent=client.user_agent[:255],
            ip=client.ip[:64],
        )
        refresh = new_refresh_token()
        await self.sessions.create(auth_session, hash_refresh_token(refresh))
        return self._issue(user, auth_session.id, refresh, auth_session.expires_at, now)

    def _issue(
        self, user: User, session_id: int, refresh: str, expires_at: datetime, now: datetime
    ) -> IssuedTokens:
        token, claims = self.codec.issue(user_id=user.id, session_id=session_id, role=user.role)
        remaining = (expires_at - now).total_seconds()
        return IssuedTokens(
            access_token=token,
            access_claims=claims,
            refresh_token=refresh,
            refresh_expires_in=int(min(remaining, self.settings.refresh_idle_ttl_seconds)),
            user=user,
        )

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        now = utcnow()
        token_hash = hash_refresh_token(refresh_token)
        idle_cutoff = now - timedelta(seconds=self.settings.refresh_idle_ttl_seconds)
        claimed = await self.sessions.claim(token_hash, now, idle_cutoff)
        if claimed is None:
            await self._handle_unusable(token_hash, now)
            raise InvalidRefreshToken
        user = await self.users.get(claimed.user_id)
        auth_session = await self.sessions.get(claimed.session_id)
        if user is None or auth_session is None or not user.is_active:
            raise InvalidRefreshToken
        successor = new_refresh_token()
        await self.sessions.add_token(claimed.session_id, hash_refresh_token(successor))
        return self._issue(user, claimed.session_id, successor, auth_session.expires_at, now)

    async def _handle_unusable(self, token_hash: str, now: datetime) -> None:
        """A spent token presented again is theft unless it is a race of the same client."""
        spent = await self.sessions.find_spent(token_hash)
        if spent is None:
            return
        grace = timedelta(seconds=self.settings.refresh_reuse_grace_seconds)
        if spent.is_latest_used and now - spent.used_at <= grace:
            return
        revoked = await self.sessions.revoke(
            now=now, reason="refresh_reuse", session_id=spent.session_id
        )
        await self.state.deny(session_ids=revoked, until=now.timestamp() + self.codec.ttl_seconds)
        # The revocation must survive the 401 this request ends with.
        raise InvalidRefreshToken(keep_changes=True)

    # -- logout and revocation -------------------------------------------------------------

    async def logout(self, principal: Principal, refresh_token: str | None) -> None:
        now = utcnow()
        revoked = await self.sessions.revoke(
            now=now, reason="logout", session_id=principal.session_id
        )
        if refresh_token:
            # A refresh token of another of the caller's own sessions ends that session too.
            spent_or_live = await self.sessions.session_of_token(hash_refresh_token(refresh_token))
            if spent_or_live is not None and spent_or_live.user_id == principal.user_id:
                revoked += await self.sessions.revoke(
                    now=now, reason="logout", session_id=spent_or_live.id
                )
        await self.state.deny(
            jti=principal.jti,
            session_ids=[principal.session_id, *revoked],
            until=now.timestamp() + self.codec.ttl_seconds,
        )

    async def logout_all(self, user_id: int) -> None:
        await self.revoke_everything(user_id, reason="logout_all")

    async def revoke_everything(
        self, user_id: int, *, reason: str, keep_session_id: int | None = None
    ) -> None:
        """Every session ends; every access token issued until now stops working."""
        now = utcnow()
        user = await self.users.get(user_id)
        if user is None:
            raise NotFound("User not found")
        user.tokens_valid_after = now
        revoked = await self.sessions.revoke(
            now=now, reason=reason, user_id=user_id, except_session_id=keep_session_id
        )
        await self.users.flush()
        await self.state.forget_user(user_id)
        await self.state.deny(session_ids=revoked, until=now.timestamp() + self.codec.ttl_seconds)

    async def list_sessions(self, principal: Principal) -> list[SessionView]:
        now = utcnow()
        idle_cutoff = now - timedelta(seconds=self.settings.refresh_idle_ttl_seconds)
        live = await self.sessions.list_live(principal.user_id, now, idle_cutoff)
        return [SessionView(s, current=s.id == principal.session_id) for s in live]

    async def revoke_session(self, principal: Principal, session_id: int) -> None:
        auth_session = await self.sessions.get(session_id)
        if auth_session is None or auth_session.user_id != principal.user_id:
            raise NotFound("Session not found")
        now = utcnow()
        await self.sessions.revoke(now=now, reason="revoked", session_id=session_id)
        await self.state.deny(
            session_ids=[session_id], until=now.timestamp() + self.codec.ttl_seconds
        )

    # -- the account itself -----------------------------------------------------------------

    async def me(self, principal: Principal) -> User:
        user = await self.users.get(principal.user_id)
        if user is None:
            raise NotFound("User not found")
        return user

    async def update_profile(
        self,
        principal: Principal,
        *,
        first_name: str | None,
        last_name: str | None,
        email: str | None,
    ) -> User:
        user = await self.me(principal)
        if (first_name, last_name) != (None, None):
            await self.names_changed(user.id)
        if first_name is not None:
            user.first_name = first_name
        if last_name is not None:
            user.last_name = last_name
        if email is not None and email.lower() != user.email:
            await UserService(self.users, self.passwords).ensure_email_free(email)
            await self.users.update(user, email=email.lower())
        await self.users.flush()
        return user

    async def names_changed(self, user_id: int) -> None:
        await self.courses.instructor_renamed(user_id)

    async def change_password(self, principal: Principal, current: str, new: str) -> None:
        """Other sessions end; access tokens issued so far die, this session can refresh."""
        stored = await self.credentials.get(principal.user_id)
        if stored is None:
            raise NotFound("User not found")
        ok, _ = await self.passwords.verify(current, stored.password_hash)
        if not ok:
            raise InvalidPassword(details={"current_password": ["is not correct"]})
        new_hash = await self.passwords.hash(new)
        user = await self.me(principal)  # the write transaction starts here
        user.password_hash = new_hash
        await self.revoke_everything(
            user.id, reason="password_change", keep_session_id=principal.session_id
        )

    async def register(
        self, *, username: str, email: str, password: str, first_name: str, last_name: str
    ) -> User:
        if not self.settings.allow_registration:
            raise RegistrationClosed
        return await UserService(self.users, self.passwords).create(
            NewUser(username, email, password, UserRole.STUDENT, first_name, last_name)
        )
