"""The Flask-era course export (shared/data/original-courses/README.md), as pydantic models.

Extra fields are allowed: the exports carry many (LLM summaries, keywords, tags…) we do not import.
Ids are local to the file and are only used to connect its parts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="allow")


class FileCourse(_FileModel):
    code: str = Field(min_length=1, max_length=20)
    title: str = Field(min_length=1)
    description: str | None = ""


class FileLecture(_FileModel):
    lecture_id: int
    week_id: int | None = None  # nested lectures take their week's
    order: int | None = None
    title: str = Field(min_length=1)
    resource_type: str = "youtube"
    video_url: str | None = None
    resource_url: str | None = None
    file_path: str | None = None
    content_transcript: str | None = None
    content_extract: str | None = None
    duration_minutes: float | None = Field(default=None, ge=0)


class FileSummary(_FileModel):
    summary: str | None = None


class FileWeek(_FileModel):
    week_id: int
    order: int = Field(ge=0, le=1000)
    title: str = Field(min_length=1)
    lectures: list[FileLecture] = Field(default_factory=list)
    LLM_Summary: FileSummary | None = None


class FileQuestion(_FileModel):
    question_id: int
    content: str = Field(min_length=1)
    type: str = Field(min_length=1)
    question_options: list[str] | None = Field(default_factory=list)
    correct_answer: Any = None
    points: float = 1
    explanation: str | None = ""
    week_id: int | None = None
    lecture_id: int | None = None
    status: str | None = "active"


class FileAssignment(_FileModel):
    assignment_id: int
    week_id: int
    title: str = Field(min_length=1)
    description: str | None = ""
    type: str = Field(min_length=1)
    start_date: date | None = None
    due_date: date | None = None
    is_published: bool = False
    question_ids: list[int] = Field(default_factory=list)


class CourseFile(_FileModel):
    course: FileCourse
    weeks: list[FileWeek]
    lectures: list[FileLecture] = Field(default_factory=list)
    questions: list[FileQuestion] = Field(default_factory=list)
    assignments: list[FileAssignment] = Field(default_factory=list)
