"""Every dependency and endpoint is a coroutine: FastAPI runs a plain `def` in its thread pool,
a thread hop per request for each (about a millisecond of CPU each; the hot paths had several)."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI

# Sync callables FastAPI must run in its thread pool, on purpose: form parsing of the OAuth2
# password flow (FastAPI's own class).
SYNC_ALLOWED = {"OAuth2PasswordRequestForm"}


def _is_async(call: Any) -> bool:
    target = call if inspect.isfunction(call) or inspect.ismethod(call) else call.__call__
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


def test_dependencies_and_endpoints_are_async(app: FastAPI) -> None:
    """A plain `def` dependency runs in the thread pool: a thread hop per request (about a
    millisecond of CPU each on the hot paths, where every route had several). Service factories
    and checks that do no blocking I/O are `async def`."""
    sync: set[str] = set()

    def walk(dependant: Any) -> None:
        for dependency in dependant.dependencies:
            call = dependency.call
            name = getattr(call, "__qualname__", repr(call))
            if call is not None and not _is_async(call) and name not in SYNC_ALLOWED:
                sync.add(f"{call.__module__}.{name}")
            walk(dependency)

    contexts: list[Any] = [
        context
        for route in app.routes
        for context in (
            route.effective_route_contexts()
            if hasattr(route, "effective_route_contexts")
            else [route]
        )
        if hasattr(context, "dependant")
    ]
    assert len(contexts) > 50
    for context in contexts:
        walk(context.dependant)
        if not _is_async(context.endpoint):
            sync.add(f"endpoint {context.endpoint.__qualname__}")
    assert not sync, sorted(sync)
