"""An end-to-end journey against `studyhub serve --workers 2` on PostgreSQL (scratch database) and
Redis (a private redis-server): what one worker does, the other honours.

A client cannot choose its worker, but it can see which one accepted its connection: the test
keeps several single-connection clients and maps each to the worker process holding the server
end of its socket (/proc/net/tcp inode → /proc/<worker>/fd). It then logs in through one worker
and works through the other; a logout, a course update (outline cache) and the rate-limit quota
are shared; and the two workers' outbox relays deliver every indexing job exactly once.
(tests/auth/test_two_workers.py covers two separate processes; this is one server, two workers.)
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest

from studyhub.users.models import UserRole
from tests.factories import enroll, make_course, make_lecture, make_user, make_week
from tests.helpers import bearer, login
from tests.support.fake_indexer import FakeIndexer
from tests.support.processes import (
    PrivateRedis,
    Service,
    assert_error_body,
    scratch_postgres,
    seeded_database,
    wait_for,
)

pytestmark = [pytest.mark.process, pytest.mark.postgres]

LECTURES = 6
RATE_LIMIT = 400


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _hex_port(address: str) -> int:
    return int(address.rsplit(":", 1)[1], 16)


def _worker_of(server_port: int, client_port: int, workers: list[int]) -> int | None:
    """The worker whose open file is the server end of the connection from `client_port`."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if _hex_port(local) == server_port and _hex_port(remote) == client_port:
            inode = fields[9]
    if inode is None:
        return None
    for pid in workers:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
        except OSError:
            continue
    return None


async def _pin_clients(stack: AsyncExitStack, app: Service) -> dict[int, httpx.AsyncClient]:
    """Single-connection keep-alive clients until each worker holds one of them."""
    workers = _children(app.pid)  # the two workers (and multiprocessing's resource tracker)
    pinned: dict[int, httpx.AsyncClient] = {}
    for _ in range(40):
        client = await stack.enter_async_context(
            httpx.AsyncClient(
                base_url=app.url,
                timeout=20,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            )
        )
        response = await client.get("/health")
        stream = response.extensions["network_stream"]
        client_port = int(stream.get_extra_info("client_addr")[1])
        worker = _worker_of(app.port, client_port, workers)
        if worker is not None and worker not in pinned:
            pinned[worker] = client
        if len(pinned) == 2:
            return pinned
    raise AssertionError(f"could not reach both workers: {sorted(pinned)} of {workers}")


async def test_two_workers_share_auth_cache_limits_and_the_outbox(
    tmp_path: Path, fake_indexer: FakeIndexer
) -> None:
    fake_indexer.polls_to_complete = 1
    async with scratch_postgres("e2e") as url:
        async with seeded_database(url) as db:
            teacher = await make_user(db, role=UserRole.TEACHER)
            student = await make_user(db)
            course = await make_course(db, teacher)
            week = await make_week(db, course)
            lectures = [await make_lecture(db, week, number=n + 1) for n in range(LECTURES)]
            await enroll(db, course, student)
        with PrivateRedis(tmp_path) as redis:
            env = {
                "DATABASE_URL": url,
                "REDIS_URL": redis.url,
                "RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT),
                "INDEXER_URL": fake_indexer.url,
                "INDEXER_API_KEY": "fake-indexer-key",
                "OUTBOX_POLL_SECONDS": "0.1",
                "OUTBOX_BATCH_SIZE": "1",  # one job per round: the two relays interleave
                # Not created beforehand, as in the container: serve must create it.
                "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
            }
            with Service(env, tmp_path, workers=2) as app:
                async with AsyncExitStack() as stack:
                    first, second = (await _pin_clients(stack, app)).values()
                    await _journey(
                        first,
                        second,
                        course.id,
                        [lec.id for lec in lectures],
                        student.username,
                        teacher.username,
                        fake_indexer,
                    )
                assert app.terminate(), app.stderr()[-3000:]
            assert "Traceback" not in app.stderr(), app.stderr()[-5000:]


async def _journey(
    first: httpx.AsyncClient,
    second: httpx.AsyncClient,
    course_id: int,
    lecture_ids: list[int],
    student_name: str,
    teacher_name: str,
    fake: FakeIndexer,
) -> None:
    course_url = f"/api/v1/courses/{course_id}"
    # Log in on one worker, use the tokens on the other.
    student_tokens = await login(first, student_name)
    student = bearer(student_tokens["access_token"])
    teacher = bearer((await login(second, teacher_name))["access_token"])
    me = await second.get("/api/v1/auth/me", headers=student)
    assert me.status_code == 200, me.text
    refreshed = await second.post(
        "/api/v1/auth/refresh", json={"refresh_token": student_tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text

    # Cache invalidation: both workers have the outline cached; an update through one worker is
    # what the next read from either worker sees.
    for client in (first, second, first, second):
        outline = await client.get(course_url, headers=student)
        assert outline.status_code == 200, outline.text
    etag = outline.headers["etag"]
    patched = await first.patch(course_url, json={"name": "Renamed by worker one"}, headers=teacher)
    assert patched.status_code == 200, patched.text
    for client in (second, first):
        outline = await client.get(course_url, headers=student)
        assert outline.json()["name"] == "Renamed by worker one"
        assert outline.headers["etag"] != etag
    listed = await second.get("/api/v1/courses", headers=student)
    assert [c["name"] for c in listed.json()["courses"]] == ["Renamed by worker one"]

    # One rate-limit quota for the client IP, counted by both workers alike.
    remaining = []
    for client in (first, second) * 4:
        response = await client.get("/api/v1/auth/me", headers=student)
        remaining.append(int(response.headers["x-ratelimit-remaining"]))
    assert remaining == list(range(remaining[0], remaining[0] - 8, -1)), remaining

    # The outbox: uploads through both workers, both relays running, each job delivered once.
    for number, lecture_id in enumerate(lecture_ids):
        client = (first, second)[number % 2]
        uploaded = await client.put(
            f"{course_url}/lectures/{lecture_id}/file",
            files={"file": ("notes.txt", f"Topic {number} enzymes\n".encode(), "text/plain")},
            headers=teacher,
        )
        assert uploaded.status_code == 200, uploaded.text

    async def all_indexed() -> bool:
        statuses = await asyncio.gather(
            *(first.get(f"{course_url}/lectures/{lid}", headers=teacher) for lid in lecture_ids)
        )
        return all(s.json()["index_status"] == "completed" for s in statuses)

    await wait_for(all_indexed, "every lecture to be indexed", 30)
    posts = fake.calls_to("POST", "/api/v1/documents")
    assert len(posts) == len(lecture_ids), [p.path for p in posts]
    assert len(fake.documents) == len(lecture_ids)
    assert Counter(d.title for d in fake.documents.values()).most_common(1)[0][1] == 1

    # Logout on one worker: the other refuses the token at once.
    logout = await second.post("/api/v1/auth/logout", headers=student)
    assert logout.status_code == 204
    for client in (first, second, first):
        assert_error_body(await client.get("/api/v1/auth/me", headers=student), 401)

    # Spend the rest of the quota alternating workers: one counter goes down by one per
    # request whichever worker answers, and the request after it reaches 0 is refused.
    last = None
    for number in range(RATE_LIMIT + 1):
        response = await (first, second)[number % 2].get("/api/v1/auth/me")
        if response.status_code == 429:
            assert_error_body(response, 429, "RATE_LIMITED")
            assert "retry-after" in response.headers
            break
        now = int(response.headers["x-ratelimit-remaining"])
        assert last is None or now == last - 1, (last, now)
        last = now
    assert last == 0, last
