"""The cached auth state is dropped again after the commit, so a request that ran between the
invalidation and the commit cannot keep a demoted user's old role in the cache."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi import FastAPI, Request
from sqlalchemy import update

from studyhub.auth.state import AuthStateStore
from studyhub.core.db import Database, SessionDep
from studyhub.users.models import User, UserRole
from studyhub.users.repository import UserRepository
from tests.factories import make_user
from tests.helpers import bearer, login


async def test_a_concurrent_reader_cannot_cache_the_pre_commit_state(
    make_app: Callable[..., FastAPI], database: Database
) -> None:
    app = make_app()
    admin = await make_user(database, role=UserRole.ADMIN)

    @app.post("/api/v1/_test/demote/{user_id}", name="test-demote")
    async def demote(user_id: int, request: Request, session: SessionDep) -> dict[str, str]:
        await session.execute(update(User).where(User.id == user_id).values(role=UserRole.STUDENT))
        store = AuthStateStore(request.app.state.cache, session)
        await store.forget_user(user_id)
        # A "concurrent request" reads the committed (old) state now and caches it.
        async with database.session(write=False) as other:
            stale = await AuthStateStore(request.app.state.cache).check(
                UserRepository(other), user_id=user_id, jti="x", session_id=0
            )
        assert stale.state is not None
        assert stale.state.role is UserRole.ADMIN
        return {"ok": "yes"}

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            headers = bearer((await login(client, admin.username))["access_token"])
            assert (await client.post(f"/api/v1/_test/demote/{admin.id}")).status_code == 200
            me = await client.get("/api/v1/auth/me", headers=headers)
            assert me.status_code == 200
            # The role a request acts with is the fresh one, not the one cached mid-flight.
            users = await client.get("/api/v1/users", headers=headers)
            assert users.status_code == 403
