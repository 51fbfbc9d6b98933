"""The demo courses `studyhub seed` creates are complete and readable through the API."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import func, select

from studyhub.core.config import Settings
from studyhub.core.db import Database
from studyhub.core.storage import FileKind, FileStore, _sniff
from studyhub.demo_assignments import seed_assignments
from studyhub.demo_courses import demo_pdf, seed_courses
from studyhub.outbox.models import OutboxEvent
from studyhub.users.models import UserRole
from tests.factories import make_user
from tests.helpers import auth_headers


def test_the_generated_pdf_is_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "demo.pdf"
    path.write_bytes(demo_pdf("Title (with parens)", ["line one", "line two"]))
    assert _sniff(path, FileKind.PDF)
    assert path.read_bytes().rstrip().endswith(b"%%EOF")


async def test_seeded_courses(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    for name, role in (
        ("teacher", UserRole.TEACHER),
        ("teacher2", UserRole.TEACHER),
        ("ta", UserRole.TA),
        ("student", UserRole.STUDENT),
        ("student2", UserRole.STUDENT),
        ("student3", UserRole.STUDENT),
    ):
        await make_user(database, role=role, username=name)
    files = FileStore(settings.upload_dir / "files", settings.max_upload_bytes)
    async with database.session() as session:
        assert await seed_courses(session, files) == ["SE101", "DBMS201", "ML301"]
        assert await seed_assignments(session)
        await session.commit()
    async with database.session() as session:
        assert await seed_courses(session, files) == []  # idempotent

    headers = await auth_headers(client, "student")
    mine = await client.get("/api/v1/courses?mine=true", headers=headers)
    assert [c["code"] for c in mine.json()["courses"]] == ["SE101"]
    course = mine.json()["courses"][0]
    assert course["enrollment_count"] == 2
    outline = (await client.get(f"/api/v1/courses/{course['id']}", headers=headers)).json()
    types = {lec["content_type"] for week in outline["weeks"] for lec in week["lectures"]}
    assert types == {"youtube", "pdf", "text", "link"}
    assert len(outline["weeks"]) == 2  # the draft week stays hidden
    pdf = next(
        lec for week in outline["weeks"] for lec in week["lectures"] if lec["content_type"] == "pdf"
    )
    download = await client.get(
        f"/api/v1/courses/{course['id']}/lectures/{pdf['id']}/file", headers=headers
    )
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF-")
    async with database.session(write=False) as session:
        queued = await session.scalar(select(func.count()).select_from(OutboxEvent))
    assert queued == 2  # both demo PDFs wait for StudyIndexer

    assignments = [a for week in outline["weeks"] for a in week["assignments"]]
    assert {a["title"] for a in assignments} == {"Lifecycle quiz", "Requirements check"}
    practice = next(a for a in assignments if a["title"] == "Lifecycle quiz")
    # The practice quiz was submitted by this student, so its answers are unlocked.
    answers = await client.get(
        f"/api/v1/courses/{course['id']}/assignments/{practice['id']}/answers", headers=headers
    )
    assert answers.status_code == 200, answers.text
    mine = await client.get(
        f"/api/v1/courses/{course['id']}/assignments/{practice['id']}/submissions", headers=headers
    )
    assert mine.json()["submissions"][0]["score"] == 3
