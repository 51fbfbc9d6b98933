from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from studyhub.core.pagination import PageDep, PageParams, Pagination, set_link_header


@pytest.fixture
async def paged_client(make_app: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app()

    @app.get("/api/v1/_test/items", name="test-items")
    async def items(params: PageDep, request: Request, response: Response) -> Pagination:
        total = 95
        set_link_header(request, response, params, total)
        return params.meta(total)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def test_meta_counts_pages() -> None:
    assert PageParams(1, 10).meta(0).pages == 0
    assert PageParams(1, 10).meta(10).pages == 1
    assert PageParams(2, 10).meta(11).model_dump() == {
        "page": 2,
        "per_page": 10,
        "total": 11,
        "pages": 2,
    }
    assert PageParams(3, 25).offset == 50


async def test_defaults_and_link_header(paged_client: httpx.AsyncClient) -> None:
    response = await paged_client.get("/api/v1/_test/items", params={"search": "x"})
    assert response.json() == {"page": 1, "per_page": 10, "total": 95, "pages": 10}
    link = response.headers["link"]
    assert 'rel="next"' in link
    assert 'rel="last"' in link
    assert 'rel="prev"' not in link
    assert "page=10" in link
    assert "search=x" in link


async def test_middle_page_has_prev_and_next(paged_client: httpx.AsyncClient) -> None:
    response = await paged_client.get("/api/v1/_test/items?page=3&per_page=20")
    link = response.headers["link"]
    assert "page=2&per_page=20" in link.split('rel="prev"')[0].split(",")[-1]
    assert 'rel="next"' in link


@pytest.mark.parametrize(
    "query", ["page=0", "per_page=0", "per_page=101", "page=-1", "page=abc", "per_page=1.5"]
)
async def test_out_of_range_is_400_never_a_silent_cap(
    paged_client: httpx.AsyncClient, query: str
) -> None:
    response = await paged_client.get(f"/api/v1/_test/items?{query}")
    assert response.status_code == 400
    assert response.json()["error"] == "VALIDATION_ERROR"
    assert set(response.json()["details"]) <= {"page", "per_page"}
