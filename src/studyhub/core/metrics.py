"""Prometheus metrics of the process (`GET /metrics`).

With several worker processes set `PROMETHEUS_MULTIPROC_DIR` (an environment variable, read by
prometheus_client at import): every worker writes its samples there and `/metrics` aggregates
them, whichever worker answers. `studyhub serve` empties the directory before starting workers,
and a worker marks itself dead on shutdown so its live gauges drop out.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from studyhub.core.metrics_dir import MULTIPROC_ENV

REQUESTS = Counter(
    "studyhub_http_requests_total",
    "HTTP requests by method, route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "studyhub_http_request_duration_seconds",
    "HTTP request latency by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CACHE_OPERATIONS = Counter(
    "studyhub_cache_operations_total", "Cache lookups by result", ["cache", "result"]
)
LOGIN_FAILURES = Counter(
    "studyhub_login_failures_total", "Failed logins (wrong password or unknown account)"
)
RATE_LIMIT_HITS = Counter(
    "studyhub_rate_limit_hits_total",
    "Requests refused by the abuse guards, by reason: quota (per-IP API limit), login_lockout "
    "(account or IP locked after failed logins), ip_auto_block, ip_admin_block",
    ["reason"],
)
IP_AUTO_BLOCKS = Counter(
    "studyhub_ip_auto_blocks_total", "Addresses blocked automatically after repeated failed logins"
)
DB_POOL_SIZE = Gauge(
    "studyhub_db_pool_size",
    "Configured connection pool size (summed over live workers)",
    multiprocess_mode="livesum",
)
DB_POOL_LIMIT = Gauge(
    "studyhub_db_pool_limit",
    "Most connections the pool may hand out: size + max overflow (summed over live workers)",
    multiprocess_mode="livesum",
)
DB_POOL_CHECKED_OUT = Gauge(
    "studyhub_db_pool_checked_out",
    "Connections currently checked out of the pool (summed over live workers)",
    multiprocess_mode="livesum",
)
# Per engine: (size, limit) it added to the gauges, taken off again by `release_pool`.
_POOLS: weakref.WeakKeyDictionary[Engine, tuple[int, int]] = weakref.WeakKeyDictionary()


# The labelled children, looked up once per (method, route, status): `labels()` validates and
# locks on every call, a measurable share of a cached read. Route templates bound the size.
_REQUEST_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status)
    children = _REQUEST_CHILDREN.get(key)
    if children is None:
        children = (REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route))
        _REQUEST_CHILDREN[key] = children
    children[0].inc()
    children[1].observe(seconds)


def instrument_pool(engine: AsyncEngine) -> None:
    """Track the engine's pool in the `studyhub_db_pool_*` gauges until `release_pool`."""
    pool: Any = engine.sync_engine.pool
    size = int(pool.size()) if hasattr(pool, "size") else 0
    overflow = int(getattr(pool, "_max_overflow", 0) or 0)
    DB_POOL_SIZE.inc(size)
    DB_POOL_LIMIT.inc(size + max(overflow, 0))
    _POOLS[engine.sync_engine] = (size, size + max(overflow, 0))

    def checkout(*_: Any) -> None:
        DB_POOL_CHECKED_OUT.inc()

    def checkin(*_: Any) -> None:
        DB_POOL_CHECKED_OUT.dec()

    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)


def release_pool(engine: AsyncEngine) -> None:
    size, limit = _POOLS.pop(engine.sync_engine, (0, 0))
    DB_POOL_SIZE.dec(size)
    DB_POOL_LIMIT.dec(limit)


def worker_exiting() -> None:
    """In multiprocess mode, drop this process's live gauges from the aggregate."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def render_metrics() -> tuple[bytes, str]:
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
