from __future__ import annotations

import pytest
from pydantic import ValidationError

from studyhub.core.config import DEVELOPMENT_SECRET_KEY, Settings, normalize_database_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///instance/studyhub.db", "sqlite+aiosqlite:///instance/studyhub.db"),
        ("postgresql://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_plain_database_urls_get_the_async_driver(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize("key", [DEVELOPMENT_SECRET_KEY, "short", "x" * 31])
def test_production_refuses_a_weak_or_default_secret(key: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        _settings(environment="production", secret_key=key)


def test_production_accepts_a_strong_secret() -> None:
    settings = _settings(environment="production", secret_key="k" * 48)
    assert settings.is_production


def test_production_refuses_test_password_hashing() -> None:
    with pytest.raises(ValidationError, match="PASSWORD_HASH_FAST"):
        _settings(environment="production", secret_key="k" * 48, password_hash_fast=True)


def test_wildcard_cors_is_refused() -> None:
    with pytest.raises(ValidationError, match="CORS_ORIGINS"):
        _settings(cors_origins="*")


def test_lists_come_from_comma_separated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "http://a.test, http://b.test")
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8,127.0.0.1")
    settings = Settings(_env_file=None)
    assert settings.cors_origins == ["http://a.test", "http://b.test"]
    assert [str(n) for n in settings.trusted_proxy_networks] == ["10.0.0.0/8", "127.0.0.1/32"]


def test_an_invalid_proxy_network_is_refused() -> None:
    with pytest.raises(ValidationError):
        _settings(trusted_proxies="not-an-ip")
