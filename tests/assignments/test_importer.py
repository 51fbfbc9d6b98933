"""`studyhub import-course` on both sample exports, and on broken files (nothing written)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from studyhub.assignments.models import Assignment, AssignmentQuestion, Question
from studyhub.cli import app
from studyhub.core.db import Database
from studyhub.courses.models import Course, CourseStatus, Lecture, Week

# Copies of ../shared/data/original-courses (the Flask-era exports), kept with the tests so the
# importer is always tested, wherever the repository is cloned.
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "original-courses"
runner = CliRunner()
EXPECTED = {  # from the file minus the reported skips (TEXT questions)
    "se101.json": ("SE101", 8, 18, 31, 8),
    "dbms201.json": ("DBMS201", 16, 32, 23, 16),
}


@pytest.fixture
def cli_database(
    database: Database, database_url: str, tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> Database:
    """The CLI writes to the test database (its tables are emptied after each test)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database


def _sample(name: str) -> Path:
    path = SAMPLES / name
    assert path.is_file(), f"sample course export missing: {path}"
    return path


async def _invoke(*args: str) -> Result:
    return await asyncio.to_thread(lambda: runner.invoke(app, ["import-course", *args]))


async def _counts(database: Database) -> dict[str, int]:
    async with database.session(write=False) as session:
        return {
            model.__tablename__: int(
                await session.scalar(select(func.count()).select_from(model)) or 0
            )
            for model in (Course, Week, Lecture, Question, Assignment)
        }


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_imports_the_sample_exports(cli_database: Database, name: str) -> None:
    code, weeks, lectures, questions, assignments = EXPECTED[name]
    result = await _invoke(str(_sample(name)), "--publish")
    assert result.exit_code == 0, result.output
    assert "cannot be auto-graded" in result.output
    assert await _counts(cli_database) == {
        "courses": 1,
        "weeks": weeks,
        "lectures": lectures,
        "questions": questions,
        "assignments": assignments,
    }
    async with cli_database.session(write=False) as session:
        course = (await session.execute(select(Course))).scalar_one()
        assert (course.code, course.status) == (code, CourseStatus.PUBLISHED)
        titles = list((await session.execute(select(Lecture.title))).scalars())
        assert not any("**" in title for title in titles)
        starts = [
            a.start_date
            for a in (await session.execute(select(Assignment))).scalars()
            if a.start_date
        ]
        # Dates are shifted so the first assignment starts today, not in 2025.
        assert min(starts).date() == datetime.now(UTC).date()
        linked = await session.scalar(select(func.count()).select_from(AssignmentQuestion))
        assert linked and linked > 0

    again = await _invoke(str(_sample(name)))
    assert again.exit_code == 3, again.output
    assert "already exists" in again.output
    assert (await _counts(cli_database))["courses"] == 1


async def test_keep_dates(cli_database: Database) -> None:
    unknown = await _invoke(str(_sample("se101.json")), "--teacher", "nobody")
    assert (unknown.exit_code, set((await _counts(cli_database)).values())) == (2, {0})
    result = await _invoke(str(_sample("se101.json")), "--keep-dates")
    assert result.exit_code == 0, result.output
    async with cli_database.session(write=False) as session:
        dates = list((await session.execute(select(Assignment.start_date))).scalars())
        status = await session.scalar(select(Course.status))
    assert {d.year for d in dates if d} == {2025}
    assert status is CourseStatus.DRAFT


def _broken(data: dict[str, Any], path: list[str | int], value: Any) -> dict[str, Any]:
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "place"),
    [
        (["questions", 3, "type"], 5, "questions[3].type"),
        (["questions", 0, "content"], KeyError, "questions[0].content"),
        (["weeks", 1, "order"], "first", "weeks[1].order"),
        (["assignments", 2, "due_date"], "someday", "assignments[2].due_date"),
        (["assignments", 0, "week_id"], 999, "assignments[0].week_id"),
        (["course"], KeyError, "course"),
        (["lectures", 4, "week_id"], 999, "lectures[4].week_id"),
    ],
)
async def test_malformed_files_write_nothing(
    cli_database: Database, tmp_path: Path, path: list[str | int], value: Any, place: str
) -> None:
    data = json.loads(_sample("se101.json").read_text())
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(_broken(data, path, value)))
    result = await _invoke(str(broken))
    assert result.exit_code == 2, result.output
    assert place in result.output
    assert set((await _counts(cli_database)).values()) == {0}


async def test_invalid_json_and_missing_file(cli_database: Database, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"course": {"code": "X1",')
    result = await _invoke(str(bad))
    assert (result.exit_code, "not valid JSON" in result.output) == (2, True)
    missing = await _invoke(str(tmp_path / "nope.json"))
    assert missing.exit_code == 2
    assert set((await _counts(cli_database)).values()) == {0}
