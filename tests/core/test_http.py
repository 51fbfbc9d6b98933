"""ETag computation and the If-Match / If-None-Match comparisons (RFC 9110 §13)."""

from __future__ import annotations

import pytest
from fastapi import Response
from pydantic import BaseModel

from studyhub.core.errors import PreconditionFailed
from studyhub.core.http import (
    check_if_match,
    compute_etag,
    conditional_read,
    if_none_match_hits,
)


class Thing(BaseModel):
    id: int
    name: str


ETAG = compute_etag(Thing(id=1, name="a"))


def test_etag_is_strong_quoted_and_follows_the_content() -> None:
    assert ETAG.startswith('"')
    assert ETAG.endswith('"')
    assert not ETAG.startswith("W/")
    assert compute_etag(Thing(id=1, name="a")) == ETAG
    assert compute_etag(Thing(id=1, name="b")) != ETAG


@pytest.mark.parametrize(
    ("header", "hit"),
    [
        (None, False),
        (ETAG, True),
        (f"W/{ETAG}", True),  # weak comparison for If-None-Match
        (f'"other", {ETAG}', True),
        ("*", True),
        ('"other"', False),
        ("garbage", False),
        ("", False),
    ],
)
def test_if_none_match(header: str | None, hit: bool) -> None:
    assert if_none_match_hits(header, ETAG) is hit


@pytest.mark.parametrize("header", [None, ETAG, f'"other" , {ETAG}', "*"])
def test_if_match_passes(header: str | None) -> None:
    check_if_match(header, ETAG)


@pytest.mark.parametrize("header", ['"other"', f"W/{ETAG}", "garbage", "", ETAG.strip('"')])
def test_if_match_fails_with_the_current_etag(header: str) -> None:
    with pytest.raises(PreconditionFailed) as caught:
        check_if_match(header, ETAG)
    assert caught.value.status_code == 412
    assert caught.value.headers["ETag"] == ETAG


def test_conditional_read() -> None:
    thing = Thing(id=1, name="a")
    injected = Response()
    injected.headers["X-Extra"] = "kept"
    full = conditional_read(thing, injected, None)
    assert full.status_code == 200
    assert full.body == thing.model_dump_json().encode()
    assert full.headers["ETag"] == ETAG
    assert full.headers["content-length"] == str(len(full.body))
    assert full.headers["X-Extra"] == "kept"
    assert "private" in full.headers["Cache-Control"]
    not_modified = conditional_read(thing, Response(), ETAG)
    assert isinstance(not_modified, Response)
    assert not_modified.status_code == 304
    assert not_modified.body == b""
    assert not_modified.headers["ETag"] == ETAG
