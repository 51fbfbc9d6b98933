"""Metrics an operator alerts on (docs/operations.md), multi-process aggregation, and logs that
never carry a password or a token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi import FastAPI
from prometheus_client import REGISTRY

from studyhub.core.config import Settings
from studyhub.core.db import Database
from studyhub.core.logging import configure_logging
from tests.factories import DEFAULT_PASSWORD, make_user


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("192.0.2.50", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_metrics_expose_pool_login_failures_and_rate_limit_hits(
    make_app: Callable[..., FastAPI], database: Database
) -> None:
    user = await make_user(database)
    app = make_app(rate_limit_per_minute=3, db_pool_size=4)
    failures = _sample("studyhub_login_failures_total")
    quota_hits = _sample("studyhub_rate_limit_hits_total", reason="quota")
    async with app.router.lifespan_context(app), _client(app) as client:
        assert _sample("studyhub_db_pool_size") >= 4
        assert _sample("studyhub_db_pool_limit") >= _sample("studyhub_db_pool_size")
        wrong = await client.post(
            "/api/v1/auth/login", json={"username": user.username, "password": "wrong-password"}
        )
        assert wrong.status_code == 401
        assert _sample("studyhub_login_failures_total") == failures + 1
        for _ in range(3):
            await client.get("/api/v1/courses")
        assert (await client.get("/api/v1/courses")).status_code == 429
        assert _sample("studyhub_rate_limit_hits_total", reason="quota") >= quota_hits + 1
        # Every connection went back to the pool once the requests were answered.
        assert _sample("studyhub_db_pool_checked_out") == 0
        text = (await client.get("/metrics")).text
    for name in (
        "studyhub_http_requests_total",
        "studyhub_http_request_duration_seconds_bucket",
        "studyhub_db_pool_size",
        "studyhub_db_pool_checked_out",
        "studyhub_login_failures_total",
        'studyhub_rate_limit_hits_total{reason="quota"}',
    ):
        assert name in text, name
    assert 'route="/api/v1/courses"' in text


_WORKER = """
import sys
from studyhub.core import metrics
metrics.LOGIN_FAILURES.inc(int(sys.argv[1]))
metrics.DB_POOL_SIZE.inc(5)
if len(sys.argv) > 2:
    metrics.worker_exiting()
"""
_SCRAPE = "from studyhub.core import metrics; print(metrics.render_metrics()[0].decode())"


def test_multiprocess_mode_aggregates_workers(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def run(*args: str) -> str:
        return subprocess.run(
            [sys.executable, *args], env=env, capture_output=True, text=True, check=True
        ).stdout

    run("-c", _WORKER, "2")
    run("-c", _WORKER, "3", "exited")
    text = run("-c", _SCRAPE)
    assert "studyhub_login_failures_total 5.0" in text
    # A worker that shut down no longer counts in the live pool gauges.
    assert "studyhub_db_pool_size 5.0" in text


async def test_logs_never_carry_passwords_or_tokens(
    make_app: Callable[..., FastAPI], database: Database, tmp_path: Path, settings: Settings
) -> None:
    user = await make_user(database)
    wrong_password = "not-my-password-31337"
    app = make_app(log_dir=tmp_path, log_level="DEBUG")
    try:
        async with app.router.lifespan_context(app), _client(app) as client:
            bad = await client.post(
                "/api/v1/auth/login", json={"username": user.username, "password": wrong_password}
            )
            assert bad.status_code == 401
            ok = await client.post(
                "/api/v1/auth/login",
                json={"username": user.username, "password": DEFAULT_PASSWORD},
            )
            tokens = ok.json()
            me = await client.get(
                "/api/v1/auth/me",
                headers={
                    "Authorization": f"Bearer {tokens['access_token']}",
                    "X-Request-ID": "trace-me-42",
                },
            )
            assert me.status_code == 200
            refreshed = await client.post(
                "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
            )
            assert refreshed.status_code == 200
            # A malformed body with a password in it: the 400 must not echo it, nor the log.
            await client.post("/api/v1/auth/login", json={"password": wrong_password, "x": 1})
    finally:
        configure_logging(settings.log_level, settings.log_dir)
    text = (tmp_path / "app.log").read_text(encoding="utf-8")
    secrets = [
        wrong_password,
        DEFAULT_PASSWORD,
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed.json()["access_token"],
        refreshed.json()["refresh_token"],
    ]
    for secret in secrets:
        assert secret not in text, "a secret reached the log"
    lines = [json.loads(line) for line in text.splitlines()]
    access = [line for line in lines if line["logger"] == "studyhub.access"]
    assert len(access) >= 5
    traced = next(line for line in access if line["request_id"] == "trace-me-42")
    assert traced["user_id"] == user.id and traced["status"] == 200
    assert traced["route"] == "/api/v1/auth/me"
