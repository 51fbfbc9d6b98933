from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from studyhub.core.pagination import Pagination
from studyhub.core.schemas import BatchRowError, BatchRowStatus, StrictModel
from studyhub.courses.schemas import CourseSummary
from studyhub.enrollments.models import CourseRole, EnrollmentStatus

MAX_BATCH_ENROLLMENTS = 1000
Login = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]


class EnrollmentUser(BaseModel):
    id: int
    username: str
    first_name: str
    last_name: str
    email: str


class EnrollmentOut(BaseModel):
    course_id: int
    user: EnrollmentUser
    role: CourseRole
    status: EnrollmentStatus
    enrolled_at: datetime


class EnrollmentList(BaseModel):
    enrollments: list[EnrollmentOut]
    pagination: Pagination


class EnrollmentCreate(StrictModel):
    """Name the user by exactly one of `user_id`, `username` or `email`."""

    user_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    username: Login | None = None
    email: Login | None = None
    role: CourseRole = CourseRole.STUDENT

    @model_validator(mode="after")
    def _exactly_one_key(self) -> Self:
        given = [v for v in (self.user_id, self.username, self.email) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of user_id, username, email")
        return self


class EnrollmentUpdate(StrictModel):
    role: CourseRole | None = None
    status: EnrollmentStatus | None = None

    @field_validator("role", "status", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Absent means "leave as is"; an explicit null would be ambiguous, so it is refused.
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class EnrollmentBatchRequest(StrictModel):
    # `Any` rows, so that one malformed row is an error in `results`, never a 400 for the whole
    # batch; the schema still tells clients what a row is.
    enrollments: list[Any] = Field(
        min_length=1,
        max_length=MAX_BATCH_ENROLLMENTS,
        description=(
            "Up to 1000 `EnrollmentCreate` objects. Each row is validated on its own: an invalid "
            "row is an error in `results`, not a 400 for the whole request."
        ),
        json_schema_extra={"items": {"$ref": "#/components/schemas/EnrollmentCreate"}},
    )


class EnrollmentBatchRow(BaseModel):
    index: int = Field(description="Position of the row in the request, from 0")
    status: BatchRowStatus
    user_id: int | None = None
    error: BatchRowError | None = None


class EnrollmentBatchResponse(BaseModel):
    created: int
    failed: int
    results: list[EnrollmentBatchRow]


class Progress(BaseModel):
    percentage: float
    completed_items: int
    total_items: int


class MyCourse(CourseSummary):
    my_role: CourseRole
    enrollment_status: EnrollmentStatus
    progress: Progress


class MyCourseList(BaseModel):
    courses: list[MyCourse]
