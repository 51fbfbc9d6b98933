"""/docs and /redoc work without internet; the OpenAPI document follows API.md conventions."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from fastapi import FastAPI


async def test_docs_load_every_asset_from_this_server(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        html = (await client.get(page)).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets, page
        for asset in assets:
            assert asset.startswith("/"), f"{page} loads {asset} from another origin"
            response = await client.get(asset)
            assert response.status_code == 200, asset
        assert "fonts.googleapis" not in html
        assert "cdn.jsdelivr" not in html


async def test_openapi_documents_400_not_422(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    text = str(schema)
    assert "'422'" not in text
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert set(schema["components"]["schemas"]["ErrorBody"]["properties"]) == {
        "error",
        "message",
        "details",
        "request_id",
    }


async def test_operation_ids_are_stable_names(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert ids
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)+", i) for i in ids), ids


async def test_docs_can_be_disabled(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(docs_enabled=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert (await client.get(path)).status_code == 404
