"""`page`/`per_page` parameters, the `pagination` envelope, and the `Link` header (API.md §0)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel

MAX_PER_PAGE = 100


class Pagination(BaseModel):
    page: int
    per_page: int
    total: int
    pages: int


@dataclass(frozen=True, slots=True)
class PageParams:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def limit(self) -> int:
        return self.per_page

    def meta(self, total: int) -> Pagination:
        pages = math.ceil(total / self.per_page) if total else 0
        return Pagination(page=self.page, per_page=self.per_page, total=total, pages=pages)


async def _page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1")] = 1,
    per_page: Annotated[
        int, Query(ge=1, le=MAX_PER_PAGE, description="Items per page, 1 to 100")
    ] = 10,
) -> PageParams:
    # Out-of-range values are a 400 (via validation), never a silent cap.
    return PageParams(page=page, per_page=per_page)


PageDep = Annotated[PageParams, Depends(_page_params)]


def set_link_header(request: Request, response: Response, params: PageParams, total: int) -> None:
    """RFC 8288 `Link` with first/prev/next/last, keeping every other query parameter."""
    last = max(1, math.ceil(total / params.per_page))
    links = {"first": 1, "last": last}
    if params.page > 1:
        links["prev"] = min(params.page - 1, last)
    if params.page < last:
        links["next"] = params.page + 1
    parts = []
    for rel, number in links.items():
        url = request.url.include_query_params(page=number, per_page=params.per_page)
        parts.append(f'<{url}>; rel="{rel}"')
    response.headers["Link"] = ", ".join(parts)
