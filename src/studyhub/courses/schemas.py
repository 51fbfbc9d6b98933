from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from studyhub.assignments.models import AssignmentType
from studyhub.core.pagination import Pagination
from studyhub.core.schemas import StrictModel
from studyhub.courses.models import ContentType, CourseStatus, EnrollmentType, IndexStatus
from studyhub.enrollments.models import CourseRole

CourseCode = Annotated[
    str,
    # Normalise first, so "cs-101" is accepted as "CS-101" rather than failing the pattern.
    BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[A-Z0-9_-]{2,20}$"),
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=20_000)]
Transcript = Annotated[str, Field(max_length=500_000)]
Url = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2048, pattern=r"^https?://[^\s]+$")
]


class _Dates(BaseModel):
    start_date: date | None = None
    end_date: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self


class CourseCreate(StrictModel, _Dates):
    code: CourseCode
    name: Title
    description: LongText = ""
    max_students: Annotated[int, Field(ge=1, le=100_000)] | None = None
    enrollment_type: EnrollmentType = EnrollmentType.OPEN
    status: CourseStatus = CourseStatus.DRAFT


class CourseUpdate(StrictModel, _Dates):
    code: CourseCode | None = None
    name: Title | None = None
    description: LongText | None = None
    max_students: Annotated[int, Field(ge=1, le=100_000)] | None = None
    enrollment_type: EnrollmentType | None = None
    status: CourseStatus | None = None


class Instructor(BaseModel):
    id: int
    name: str


class CourseSummary(BaseModel):
    id: int
    code: str
    name: str
    description: str
    status: CourseStatus
    instructor: Instructor | None
    enrollment_count: int
    max_students: int | None
    enrollment_type: EnrollmentType
    start_date: date | None
    end_date: date | None
    created_at: datetime
    updated_at: datetime


class CourseList(BaseModel):
    courses: list[CourseSummary]
    pagination: Pagination


class LectureSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: int
    title: str
    content_type: ContentType
    is_published: bool
    duration_seconds: int | None
    completed: bool | None = None


class AssignmentSummary(BaseModel):
    id: int
    week_id: int
    title: str
    type: AssignmentType
    start_date: datetime | None
    due_date: datetime | None
    is_published: bool
    max_score: float
    question_count: int
    completed: bool | None = None


class WeekOut(BaseModel):
    id: int
    number: int
    title: str
    description: str
    is_published: bool
    lectures: list[LectureSummary]
    assignments: list[AssignmentSummary]


class CourseDetail(CourseSummary):
    my_role: CourseRole | None
    weeks: list[WeekOut]


class WeekList(BaseModel):
    weeks: list[WeekOut]


class WeekCreate(StrictModel):
    number: Annotated[int, Field(ge=0, le=1000)]
    title: Title
    description: LongText = ""
    is_published: bool = False


class WeekUpdate(StrictModel):
    number: Annotated[int, Field(ge=0, le=1000)] | None = None
    title: Title | None = None
    description: LongText | None = None
    is_published: bool | None = None


class LectureFile(BaseModel):
    name: str
    size: int
    media_type: str


class LectureOut(LectureSummary):
    course_id: int
    week_id: int
    description: str
    url: str | None
    body: str
    transcript: str
    file: LectureFile | None
    index_status: IndexStatus


class LectureCreate(StrictModel):
    title: Title
    description: LongText = ""
    content_type: ContentType
    url: Url | None = None
    body: Annotated[str, Field(max_length=200_000)] = ""
    transcript: Transcript = ""
    number: Annotated[int, Field(ge=1, le=1000)] | None = None
    duration_seconds: Annotated[int, Field(ge=0, le=100_000)] | None = None
    is_published: bool = False

    @model_validator(mode="after")
    def _url_for_linked_content(self) -> Self:
        if self.content_type in {ContentType.YOUTUBE, ContentType.LINK} and not self.url:
            raise ValueError(f"url is required for {self.content_type.value} lectures")
        return self


class LectureUpdate(StrictModel):
    title: Title | None = None
    description: LongText | None = None
    content_type: ContentType | None = None
    url: Url | None = None
    body: Annotated[str, Field(max_length=200_000)] | None = None
    transcript: Transcript | None = None
    number: Annotated[int, Field(ge=1, le=1000)] | None = None
    duration_seconds: Annotated[int, Field(ge=0, le=100_000)] | None = None
    is_published: bool | None = None
    week_id: int | None = Field(default=None, description="Move the lecture to another week")
