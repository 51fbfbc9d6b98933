"""`create_app(settings)`: the one place the application is assembled."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi_offline import FastAPIOffline

from studyhub import __version__
from studyhub.admin.blocklist import IpBlockList
from studyhub.admin.router import router as admin_router
from studyhub.assignments.questions_router import router as questions_router
from studyhub.assignments.router import router as assignments_router
from studyhub.auth.router import router as auth_router
from studyhub.core.cache import build_cache
from studyhub.core.config import Settings, get_settings
from studyhub.core.db import Database, create_engine
from studyhub.core.errors import install_error_handlers
from studyhub.core.http import storable_query
from studyhub.core.logging import configure_logging
from studyhub.core.metrics import instrument_pool, release_pool, worker_exiting
from studyhub.core.middleware import BodyLimit, RequestContextMiddleware
from studyhub.core.openapi import install_openapi, operation_id
from studyhub.core.passwords import PasswordHasher
from studyhub.core.ratelimit import AbuseGuard, RateLimiter, RateLimitMiddleware
from studyhub.core.security import TokenCodec
from studyhub.core.startup_gc import resume_collection
from studyhub.core.storage import FileStore
from studyhub.courses.cache import CourseCacheStore
from studyhub.courses.content_router import router as content_router
from studyhub.courses.router import router as courses_router
from studyhub.enrollments.router import router as enrollments_router
from studyhub.health.router import router as health_router
from studyhub.indexer.client import build_indexer
from studyhub.outbox.relay import OutboxRelay
from studyhub.personal.router import router as personal_router
from studyhub.progress.router import router as progress_router
from studyhub.search.router import router as search_router
from studyhub.users.router import router as users_router

API_PREFIX = "/api/v1"

DESCRIPTION = """
The StudyHub Backend Service: courses in weeks, lectures, auto-graded assignments, enrollments and
progress tracking. Every error has the body `{error, message, details, request_id}`; request
validation errors are **400 `VALIDATION_ERROR`**.

Use **Authorize** with a username and password to try authenticated operations.
"""

TAGS = [
    {"name": "courses", "description": "The catalog and each course's lifecycle and outline."},
    {"name": "content", "description": "Weeks and lectures, with their files."},
    {
        "name": "enrollments",
        "description": "Joining and leaving courses, course rosters, and the caller's courses.",
    },
    {"name": "questions", "description": "Each course's question bank (staff)."},
    {
        "name": "assignments",
        "description": "Practice and graded assignments, submissions and their grading.",
    },
    {"name": "progress", "description": "Lecture progress events, rollups and staff views."},
    {"name": "auth", "description": "Log in, refresh and revoke tokens; the caller's account."},
    {"name": "personal", "description": "Your own knowledge base: folders, notes and files."},
    {"name": "search", "description": "Search lectures and your notes (through StudyIndexer)."},
    {"name": "admin", "description": "Administration: the IP block list and the indexing outbox."},
    {"name": "users", "description": "User administration (admins only)."},
    {"name": "health", "description": "Liveness, readiness and metrics for operators."},
]


def _freeze_startup_heap() -> None:
    """Move what exists once the app has started (modules, schemas, mappers: some 200,000
    objects that live as long as the process) out of the garbage collector's sight. Otherwise
    every full collection traverses all of it: ~150 ms, triggered every few dozen progress
    batches by the objects a batch keeps alive for a while (about 3 ms a batch on average).
    Once per process (the first app to start): later apps, e.g. in tests, must not freeze
    garbage they leave behind."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


def _lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Nothing connects at import time; everything shared lives on app.state for the app's life.
        app.state.database = Database(create_engine(settings))
        instrument_pool(app.state.database.engine)
        app.state.cache = build_cache(
            settings.redis_url,
            prefix=settings.cache_prefix,
            timeout_seconds=settings.cache_timeout_seconds,
        )
        app.state.course_cache = CourseCacheStore(app.state.cache, settings.outline_cache_seconds)
        app.state.passwords = PasswordHasher(fast=settings.password_hash_fast)
        app.state.rate_limiter = limiter = RateLimiter(
            settings.redis_url,
            prefix=settings.cache_prefix,
            timeout_seconds=settings.cache_timeout_seconds,
        )
        app.state.abuse_guard = app.state.login_throttle = AbuseGuard(
            limiter,
            per_minute=settings.rate_limit_per_minute,
            failures_per_account=settings.login_max_failures_per_account,
            failures_per_ip=settings.login_max_failures_per_ip,
            lockout_seconds=settings.login_lockout_seconds,
        )
        app.state.ip_blocklist = IpBlockList(app.state.database, app.state.cache)
        # None without INDEXER_URL: jobs stay queued and search answers 503.
        app.state.indexer = indexer = build_indexer(settings)
        app.state.outbox_relay = relay = OutboxRelay(
            app.state.database, indexer, app.state.files, settings
        )
        if settings.outbox_relay_enabled:
            relay.start()  # no-op without an indexer
        _freeze_startup_heap()
        try:
            yield
        finally:
            await relay.stop()  # after its current round, before the clients it uses close
            if indexer is not None:
                await indexer.aclose()
            await limiter.close()
            app.state.passwords.close()
            await app.state.cache.close()
            await app.state.database.dispose()
            release_pool(app.state.database.engine)
            worker_exiting()

    return lifespan


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_dir)

    common: dict[str, Any] = {
        "title": "StudyHub API",
        "version": __version__,
        "description": DESCRIPTION,
        "openapi_tags": TAGS,
        "lifespan": _lifespan(settings),
        "generate_unique_id_function": operation_id,
    }
    if settings.docs_enabled:
        # Swagger UI and ReDoc assets come from the fastapi-offline package: no CDN, no internet.
        app = FastAPIOffline(
            **common,
            swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
        )
    else:
        app = FastAPI(**common, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.token_codec = TokenCodec(settings.secret_key, settings.access_token_ttl_seconds)
    app.state.files = FileStore(settings.upload_dir / "files", settings.max_upload_bytes)

    install_error_handlers(app)
    install_openapi(app, api_prefix=API_PREFIX)

    # Level 6 (zlib's default) instead of Starlette's 9: about the same size for JSON at a
    # fraction of the CPU per response.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    # Inside CORS, so a 429 is readable by the browser; preflights are answered before it.
    app.add_middleware(RateLimitMiddleware, prefix=API_PREFIX + "/")
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "If-Match",
            "If-None-Match",
            "Idempotency-Key",
            "X-CSRF-Token",
            "X-Request-ID",
        ],
        expose_headers=[
            "ETag",
            "Link",
            "Location",
            "Retry-After",
            "X-Request-ID",
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        ],
        max_age=600,
    )
    app.add_middleware(
        RequestContextMiddleware,
        hsts=settings.is_production,
        body_limit=BodyLimit(settings.max_request_bytes, settings.max_upload_bytes),
    )

    app.include_router(health_router)
    # The prefix is given to include_router, not to APIRouter: FastAPI checks an unprefixed
    # include eagerly by building every route's dependant, response models and handler for that
    # router, and throws the result away (the app builds its own on the first request).
    # That was ~0.2-0.3 s of startup (make bench: startup to ready).
    api = APIRouter(dependencies=[Depends(storable_query)])
    # FastAPI tries routes in order, one pattern at a time: the busiest come first. (No two
    # routers share a path pattern, so the order changes nothing else.)
    api.include_router(courses_router)
    api.include_router(content_router)
    api.include_router(progress_router)
    api.include_router(assignments_router)
    api.include_router(enrollments_router)
    api.include_router(questions_router)
    api.include_router(search_router)
    api.include_router(personal_router)
    api.include_router(auth_router)
    api.include_router(admin_router)
    api.include_router(users_router)
    app.include_router(api, prefix=API_PREFIX)
    resume_collection()  # paused by `studyhub serve` while the app was built (startup time)
    return app
