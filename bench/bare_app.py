"""The baseline: a bare Starlette JSON endpoint, served by the same uvicorn settings as the
service. Every figure in the benchmark is also reported as a ratio to this app in the same run."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def ok(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/", ok)])
