"""Settings, read from the environment or `.env` (every one is listed in `.env.example`)."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("instance/studyhub.db")
# A key that only development and test runs accept; production refuses to start with it.
DEVELOPMENT_SECRET_KEY = "dev-insecure-secret-key-change-me-0123456789"  # noqa: S105
MIN_SECRET_KEY_BYTES = 32


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"
    TEST = "test"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def normalize_database_url(url: str) -> str:
    """Accept the plain URL forms of the StudyHub docs and pick the async driver ourselves."""
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    environment: Environment = Environment.DEVELOPMENT
    secret_key: str = DEVELOPMENT_SECRET_KEY
    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    redis_url: str | None = None
    cache_prefix: str = "studyhub:"
    indexer_url: str | None = None
    indexer_api_key: str | None = None
    # StudyIndexer client (DESIGN.md §8): per-phase timeouts, an overall deadline per call (retries
    # and Retry-After waits included), a longer one for uploads, a response size cap, a breaker.
    indexer_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    indexer_connect_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    indexer_read_timeout_seconds: float = Field(default=3.0, gt=0, le=120)
    indexer_upload_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    indexer_max_response_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    indexer_breaker_threshold: int = Field(default=5, ge=1)
    indexer_breaker_cooldown_seconds: float = Field(default=30.0, gt=0)
    # The outbox relay that delivers index/delete jobs to StudyIndexer (only when INDEXER_URL is
    # set). Tests switch the background loop off and call `OutboxRelay.run_once()` themselves.
    outbox_relay_enabled: bool = True
    outbox_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    outbox_batch_size: int = Field(default=20, ge=1, le=500)
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    # How long a claimed job stays hidden from other relays: a relay that dies mid-delivery
    # (kill -9, OOM) leaves its jobs to be retried once this runs out. Longer than any upload.
    outbox_lease_seconds: float = Field(default=300.0, gt=0, le=3600)
    # Benchmarks only: an artificial delay in search's permission query, to show that the DB work
    # and the StudyIndexer call overlap. Refused in production.
    bench_search_db_delay_seconds: float = Field(default=0.0, ge=0, le=10)

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    upload_dir: Path = Path("uploads")
    log_dir: Path | None = Path("logs")
    log_level: str = "INFO"

    allow_registration: bool = True
    docs_enabled: bool = True
    rate_limit_per_minute: int = Field(default=100, ge=1)
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=20, ge=1)
    login_lockout_seconds: int = Field(default=900, ge=1)
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=900)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60)
    refresh_idle_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    # A just-rotated refresh token presented again within this window is a client race (two tabs),
    # refused without revoking the session; later it is theft and revokes the session.
    refresh_reuse_grace_seconds: int = Field(default=10, ge=0, le=300)

    max_request_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    cache_timeout_seconds: float = Field(default=0.25, gt=0)
    # How long a course outline stays cached (0 disables the outline cache).
    outline_cache_seconds: int = Field(default=300, ge=0, le=86_400)
    # Cheap argon2 parameters for tests; never accepted in production (see validator below).
    password_hash_fast: bool = False

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("log_dir", "redis_url", "indexer_url", "indexer_api_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `LOG_DIR=` in an env file means "not set", not the current directory.
        return None if value == "" else value

    @field_validator("database_url")
    @classmethod
    def _normalize_db(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for net in value:
            ipaddress.ip_network(net, strict=False)
        return value

    @model_validator(mode="after")
    def _production_guards(self) -> Self:
        if "*" in self.cors_origins:
            # The API uses credentials (cookie refresh mode): a wildcard would hand them
            # to any site.
            raise ValueError("CORS_ORIGINS must list explicit origins; '*' is refused")
        if self.environment is Environment.PRODUCTION:
            if (
                self.secret_key == DEVELOPMENT_SECRET_KEY
                or len(self.secret_key.encode()) < MIN_SECRET_KEY_BYTES
            ):
                raise ValueError(
                    "SECRET_KEY must be set to at least 32 random bytes in production "
                    '(python -c "import secrets; print(secrets.token_urlsafe(48))")'
                )
            if self.password_hash_fast:
                raise ValueError("PASSWORD_HASH_FAST is for tests only")
            if self.bench_search_db_delay_seconds:
                raise ValueError("BENCH_SEARCH_DB_DELAY_SECONDS is for benchmarks only")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @cached_property
    def trusted_proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(net, strict=False) for net in self.trusted_proxies]


def get_settings() -> Settings:
    return Settings()
