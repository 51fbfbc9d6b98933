from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from studyhub.core.pagination import Pagination
from studyhub.core.schemas import StrictModel
from studyhub.progress.merge import EventType, ItemState

MAX_BATCH_EVENTS = 500
StudentSort = Literal[
    "percentage", "-percentage", "last_activity_at", "-last_activity_at", "name", "-name"
]
MAX_POSITION_SECONDS = 7 * 24 * 3600
EventId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
DeviceId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Seconds = Annotated[int, Field(ge=0, le=MAX_POSITION_SECONDS)]
ActiveSeconds = Annotated[int, Field(ge=0, le=86_400)]


def as_utc(value: datetime) -> datetime:
    """ISO-8601 UTC; a timestamp without an offset is taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class LectureEventIn(StrictModel):
    event_id: EventId | None = None
    state: Literal["in_progress", "completed"] | None = None
    position_seconds: Seconds | None = None
    active_seconds: ActiveSeconds | None = None
    occurred_at: datetime | None = None

    @field_validator("occurred_at")
    @classmethod
    def _as_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value)


class BatchEvent(BaseModel):
    """One event of a batch (and the event a single-lecture request is turned into).

    Unknown fields are refused as by `StrictModel`, but not through its per-field text check:
    every field here already refuses text the database cannot store (the id's pattern admits
    printable ASCII only; numbers, the type and the timestamp parse or fail), and that check
    was a Python call per field, 3,500 per batch (tests/fuzz/test_parsers.py holds the claim)."""

    model_config = ConfigDict(extra="forbid")

    event_id: EventId
    course_id: Annotated[int, Field(ge=1, le=2**31 - 1)]
    lecture_id: Annotated[int, Field(ge=1, le=2**31 - 1)]
    type: EventType
    occurred_at: datetime
    position_seconds: Seconds | None = None
    active_seconds: ActiveSeconds | None = None

    @field_validator("occurred_at")
    @classmethod
    def _as_utc(cls, value: datetime) -> datetime:
        return as_utc(value)


class BatchIn(StrictModel):
    raw_fields = frozenset({"events"})  # each is validated as a `BatchEvent`

    device_id: DeviceId | None = None
    # Raw objects, validated one by one: one malformed event is rejected, the others apply.
    events: Annotated[list[Any], Field(max_length=MAX_BATCH_EVENTS)]


class EventResult(BaseModel):
    index: int
    event_id: str | None
    status: Literal["applied", "duplicate", "rejected"]
    reason: str | None = None


class LectureProgressOut(BaseModel):
    lecture_id: int
    state: ItemState
    position_seconds: int
    furthest_position_seconds: int
    active_seconds: int
    first_viewed_at: AwareDatetime | None
    last_viewed_at: AwareDatetime | None
    completed_at: AwareDatetime | None


class NextItem(BaseModel):
    type: str
    id: int
    title: str


class Resume(BaseModel):
    lecture_id: int
    position_seconds: int


class WeekProgress(BaseModel):
    week_id: int
    week_number: int
    title: str
    total_items: int
    completed_items: int
    percentage: float


class CourseProgressBase(BaseModel):
    course_id: int
    user_id: int
    total_items: int
    completed_items: int
    percentage: float = Field(ge=0, le=100)
    state: ItemState
    completed_at: AwareDatetime | None
    last_activity_at: AwareDatetime | None
    active_seconds: int
    next_item: NextItem | None
    resume: Resume | None


class CourseProgress(CourseProgressBase):
    weeks: list[WeekProgress]


class ItemDetail(BaseModel):
    type: str
    id: int
    week_id: int
    title: str
    state: ItemState
    completed_at: AwareDatetime | None
    last_activity_at: AwareDatetime | None
    active_seconds: int


class StudentCourseProgress(CourseProgress):
    items: list[ItemDetail]


class LectureEventOut(BaseModel):
    lecture: LectureProgressOut
    course: CourseProgress


class BatchOut(BaseModel):
    results: list[EventResult]
    courses: list[CourseProgress]
    server_time: AwareDatetime


class Totals(BaseModel):
    total_items: int
    completed_items: int
    percentage: float


class Streak(BaseModel):
    current_days: int
    longest_days: int


class MyProgress(BaseModel):
    courses: list[CourseProgressBase]
    overall: Totals
    streak: Streak
    last_activity_at: AwareDatetime | None


class StudentUser(BaseModel):
    id: int
    username: str
    first_name: str
    last_name: str
    email: str


class StudentRow(BaseModel):
    user: StudentUser
    total_items: int
    completed_items: int
    percentage: float
    state: ItemState
    last_activity_at: AwareDatetime | None
    active_seconds: int
    # Mean over the assignments the student submitted of the best submission's score, as a
    # percentage of its maximum; null before a first submission.
    average_score: float | None = None


class StudentList(BaseModel):
    students: list[StudentRow]
    pagination: Pagination


class ItemCompletion(BaseModel):
    type: str
    id: int
    title: str
    completed_count: int
    completion_rate: float


class CourseSummaryOut(BaseModel):
    enrolled: int
    not_started: int
    in_progress: int
    completed: int
    mean_percentage: float
    median_percentage: float
    histogram: list[int] = Field(description="Students per 10 % bucket; 100 % is in the last")
    inactive_7d: int = Field(description="Students with no activity in the last 7 days")
    items: list[ItemCompletion]
