"""The StudyIndexer client's policies, with `httpx.MockTransport` (no network)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from studyhub.indexer.client import IndexerClient, IndexerConfig, Upload
from studyhub.indexer.exceptions import IndexerBadGateway, SearchTimeout, SearchUnavailable

Handler = Callable[[httpx.Request], httpx.Response]
OK_SEARCH = {"results": [], "pagination": {"current_page": 1, "total_pages": 0}}


def _client(handler: Handler, **config: object) -> tuple[IndexerClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    values: dict[str, object] = {"url": "http://indexer.test", "api_key": "k", **config}
    client = IndexerClient(IndexerConfig(**values), transport=httpx.MockTransport(record))  # type: ignore[arg-type]
    return client, seen


def _upload() -> Upload:
    return Upload("a.txt", b"hello", "text/plain", "A", "text", "course", ["course:1"], 1)


async def test_requests_follow_the_contract() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/search":
            return httpx.Response(200, json=OK_SEARCH)
        return httpx.Response(202, json={"document_id": 42, "status": "processing"})

    client, seen = _client(handler)
    accepted = await client.upload(_upload())
    assert accepted.document_id == "42"  # numbers are accepted and kept as text
    await client.search("q", collection="course", filters={"course_id": 1})
    upload, search = seen
    assert upload.headers["Authorization"] == "Bearer k"
    assert upload.url.path == "/api/v1/documents"
    assert b'name="collection"' in upload.content and b'name="file"' in upload.content
    assert json.loads(search.content)["filters"] == {"course_id": 1}
    await client.aclose()


async def test_only_idempotent_calls_are_retried() -> None:
    client, seen = _client(lambda r: httpx.Response(500, json={}))
    with pytest.raises(IndexerBadGateway):
        await client.upload(_upload())
    assert len(seen) == 1  # a POST that creates must not be repeated
    with pytest.raises(IndexerBadGateway):
        await client.search("q", collection="course")
    assert len(seen) == 1 + 3  # POST /search is read-only: two retries
    with pytest.raises(IndexerBadGateway):
        await client.delete("d1")
    assert len(seen) == 1 + 3 + 3


async def test_429_retry_after_is_honoured_within_the_deadline() -> None:
    answers = iter(
        [httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, json=OK_SEARCH)]
    )
    client, seen = _client(lambda r: next(answers))
    await client.search("q", collection="course")
    assert len(seen) == 2

    client, seen = _client(lambda r: httpx.Response(429, headers={"Retry-After": "30"}))
    with pytest.raises(SearchUnavailable) as caught:
        await client.search("q", collection="course")
    assert len(seen) == 1  # waiting 30 s would overrun the 5 s deadline: give up at once
    assert caught.value.headers["Retry-After"] == "30"


async def test_the_breaker_stops_calls_while_open() -> None:
    client, seen = _client(
        lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused")),
        breaker_threshold=2,
        max_retries=0,
    )
    for _ in range(2):
        with pytest.raises(SearchUnavailable):
            await client.search("q", collection="course")
    assert len(seen) == 2
    with pytest.raises(SearchUnavailable) as caught:
        await client.search("q", collection="course")
    assert len(seen) == 2  # open: no upstream call
    assert int(caught.value.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, content=b"{not json"),
        httpx.Response(200, json={"unexpected": True}),
        httpx.Response(200, json={"results": [{"score": "high"}]}),
        httpx.Response(302, headers={"Location": "http://elsewhere.test/"}),
        httpx.Response(401, json={"success": False}),
        httpx.Response(200, content=b"[" + b"1," * 700_000 + b"1]"),
    ],
    ids=["malformed", "wrong-shape", "bad-hit", "redirect", "refused", "oversized"],
)
async def test_bad_answers_are_bad_gateway(response: httpx.Response) -> None:
    client, _ = _client(lambda r: response, max_response_bytes=1024 * 1024)
    with pytest.raises(IndexerBadGateway):
        await client.search("q", collection="course")


async def test_an_oversized_streamed_body_is_cut_off() -> None:
    async def endless() -> AsyncIterator[bytes]:
        for _ in range(10_000):
            yield b"x" * 1024

    client, _ = _client(lambda r: httpx.Response(200, content=endless()), max_response_bytes=4096)
    with pytest.raises(IndexerBadGateway) as caught:
        await client.search("q", collection="course")
    assert caught.value.details == {"reason": "response too large"}


async def test_a_missing_document_is_none_not_an_error() -> None:
    client, _ = _client(lambda r: httpx.Response(404, json={"success": False}))
    assert await client.document("nope") is None
    assert await client.delete("nope") is False


async def test_read_timeouts_end_as_504() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client, seen = _client(slow)
    with pytest.raises(SearchTimeout):
        await client.search("q", collection="course")
    assert len(seen) == 3
