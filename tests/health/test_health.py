from __future__ import annotations

import socket
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI


async def _get(app: FastAPI, path: str) -> httpx.Response:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get(path)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_liveness_needs_no_io(make_app: Callable[..., FastAPI]) -> None:
    # A database URL that can never connect: liveness must not care.
    app = make_app(database_url=f"postgresql://nobody@127.0.0.1:{_closed_port()}/none")
    response = await _get(app, "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_each_dependency(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["database"]["latency_ms"] >= 0
    assert body["checks"]["cache"]["status"] == "ok"
    assert body["checks"]["indexer"]["status"] == "disabled"


async def test_ready_is_503_when_the_database_is_down(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(database_url=f"postgresql://nobody@127.0.0.1:{_closed_port()}/none")
    response = await _get(app, "/health/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
    assert response.json()["checks"]["database"]["status"] == "down"


async def test_ready_is_degraded_when_redis_is_down(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(redis_url=f"redis://127.0.0.1:{_closed_port()}/0")
    response = await _get(app, "/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"] == {
        "status": "degraded",
        "latency_ms": pytest.approx(body["checks"]["cache"]["latency_ms"]),
        "backend": "redis",
    }
    assert body["checks"]["cache"]["latency_ms"] < 1000  # short timeouts: no stall


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/health")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert (
        'studyhub_http_requests_total{method="GET",route="/health",status="200"}' in response.text
    )
