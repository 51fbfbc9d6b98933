"""Request and response bodies of the question bank, assignments and submissions (API.md §4)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from studyhub.assignments.models import (
    AssignmentType,
    QuestionStatus,
    QuestionType,
    SubmissionStatus,
)
from studyhub.core.pagination import Pagination
from studyhub.core.schemas import BatchRowError, BatchRowStatus, StrictModel
from studyhub.courses.schemas import AssignmentSummary

MAX_OPTIONS = 26
MAX_BATCH = 500
MAX_ASSIGNMENT_QUESTIONS = 500
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionalTitle = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Content = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
LongText = Annotated[str, Field(max_length=20_000)]
Option = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Points = Annotated[float, Field(gt=0, le=10_000, allow_inf_nan=False)]
Tolerance = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# -- dates: a plain YYYY-MM-DD is the start (00:00:00 UTC) or the end (23:59:59 UTC) of that day --


def _day_start(value: object) -> object:
    return f"{value}T00:00:00Z" if isinstance(value, str) and _DATE.match(value) else value


def _day_end(value: object) -> object:
    return f"{value}T23:59:59Z" if isinstance(value, str) and _DATE.match(value) else value


def _utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; everything is stored and returned in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


StartDate = Annotated[datetime, BeforeValidator(_day_start), AfterValidator(_utc)]
DueDate = Annotated[datetime, BeforeValidator(_day_end), AfterValidator(_utc)]


# -- questions ---------------------------------------------------------------------------------


def _index(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def check_answer(kind: QuestionType, options: list[str], answer: object) -> int | float | list[int]:
    """The normalised correct answer, or ValueError naming what is wrong with it."""
    if kind is QuestionType.NUMERIC:
        if options:
            raise ValueError("numeric questions take no options")
        if isinstance(answer, bool) or not isinstance(answer, int | float):
            raise ValueError("must be a number for a numeric question")
        if not math.isfinite(answer):
            raise ValueError("must be a finite number")
        return answer
    if len(options) < 2:
        raise ValueError(f"{kind.value} questions need at least 2 options")
    if kind is QuestionType.MCQ:
        index = _index(answer)
        if index is None or not 0 <= index < len(options):
            raise ValueError(f"must be an option index from 0 to {len(options) - 1}")
        return index
    if not isinstance(answer, list) or not answer:
        raise ValueError("must be a non-empty list of option indexes for an msq question")
    indexes = [_index(item) for item in answer]
    if any(i is None or not 0 <= i < len(options) for i in indexes):
        raise ValueError(f"indexes must be from 0 to {len(options) - 1}")
    if len(set(indexes)) != len(indexes):
        raise ValueError("indexes must be unique")
    return sorted(i for i in indexes if i is not None)


class QuestionCreate(StrictModel):
    title: OptionalTitle = ""
    content: Content
    type: QuestionType
    options: Annotated[list[Option], Field(max_length=MAX_OPTIONS)] = Field(default_factory=list)
    correct_answer: Annotated[
        Any,
        Field(
            description="mcq: an option index; msq: a list of option indexes; numeric: a number",
            examples=[2, [0, 3], 42.5],
        ),
    ]
    tolerance: Tolerance | None = Field(
        default=None, description="numeric only: accepted distance from the correct answer"
    )
    points: Points = 1.0
    explanation: LongText = ""
    status: QuestionStatus = QuestionStatus.DRAFT
    week_id: Id | None = None
    lecture_id: Id | None = None

    @field_validator("correct_answer")
    @classmethod
    def _valid_answer(cls, value: object, info: ValidationInfo) -> object:
        kind = info.data.get("type")
        if kind is None or "options" not in info.data:
            return value  # the type or options already failed; reported there
        return check_answer(kind, info.data["options"], value)

    @field_validator("tolerance")
    @classmethod
    def _numeric_only(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and info.data.get("type") not in (None, QuestionType.NUMERIC):
            raise ValueError("only numeric questions have a tolerance")
        return value


class QuestionUpdate(StrictModel):
    title: OptionalTitle | None = None
    content: Content | None = None
    type: QuestionType | None = None
    options: Annotated[list[Option], Field(max_length=MAX_OPTIONS)] | None = None
    correct_answer: Any = None
    tolerance: Tolerance | None = None
    points: Points | None = None
    explanation: LongText | None = None
    status: QuestionStatus | None = None
    week_id: Id | None = None
    lecture_id: Id | None = None


class QuestionOut(BaseModel):
    """A question as staff see it, answer included."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    course_id: int
    week_id: int | None
    lecture_id: int | None
    title: str
    content: str
    type: QuestionType
    options: list[str]
    correct_answer: Any
    tolerance: float | None
    points: float
    explanation: str
    status: QuestionStatus
    created_at: datetime
    updated_at: datetime


class QuestionPublic(BaseModel):
    """A question as students see it: never the answer, the tolerance or the explanation.
    `extra="forbid"`: a staff-shaped question can never be serialised as this one."""

    model_config = ConfigDict(from_attributes=True, extra="forbid")

    id: int
    title: str
    content: str
    type: QuestionType
    options: list[str]
    points: float


class QuestionList(BaseModel):
    questions: list[QuestionOut]
    pagination: Pagination


class QuestionBatch(StrictModel):
    questions: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_BATCH)]


class QuestionBatchRow(BaseModel):
    index: int
    status: BatchRowStatus
    id: int | None = None
    error: BatchRowError | None = None


class QuestionBatchResult(BaseModel):
    created: int
    failed: int
    results: list[QuestionBatchRow]


# -- assignments -------------------------------------------------------------------------------


class _Window(BaseModel):
    start_date: StartDate | None = None
    due_date: DueDate | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.start_date and self.due_date and self.due_date < self.start_date:
            raise ValueError("due_date must not be before start_date")
        return self


QuestionIds = Annotated[list[Id], Field(max_length=MAX_ASSIGNMENT_QUESTIONS)]


class AssignmentCreate(StrictModel, _Window):
    title: Title
    description: LongText = ""
    type: AssignmentType
    late_penalty_percent: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 0.0
    max_attempts: Annotated[int, Field(ge=1, le=1000)] | None = None
    is_published: bool = False
    question_ids: QuestionIds = Field(default_factory=list)


class AssignmentUpdate(StrictModel):
    title: Title | None = None
    description: LongText | None = None
    type: AssignmentType | None = None
    start_date: StartDate | None = None
    due_date: DueDate | None = None
    late_penalty_percent: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] | None = None
    max_attempts: Annotated[int, Field(ge=1, le=1000)] | None = None
    is_published: bool | None = None
    week_id: Id | None = Field(default=None, description="Move the assignment to another week")


class AssignmentQuestions(StrictModel):
    question_ids: QuestionIds


class MySubmission(BaseModel):
    score: float
    max_score: float
    submitted_at: datetime
    attempts: int


class AssignmentItem(AssignmentSummary):
    description: str
    late_penalty_percent: float
    max_attempts: int | None
    my_submission: MySubmission | None = None


class AssignmentList(BaseModel):
    assignments: list[AssignmentItem]
    pagination: Pagination


class AssignmentDetail(AssignmentItem):
    """Staff view: questions with their answers."""

    questions: list[QuestionOut]


class AssignmentStudentView(AssignmentItem):
    """Student view: questions without answers (empty until the assignment opens)."""

    questions: list[QuestionPublic]


# -- submissions -------------------------------------------------------------------------------


class SubmissionCreate(StrictModel):
    answers: Annotated[
        dict[str, Any],
        Field(
            max_length=MAX_ASSIGNMENT_QUESTIONS,
            description='{"<question_id>": answer}; missing or malformed answers score 0',
            examples=[{"12": 2, "13": [0, 3], "14": 42.5}],
        ),
    ]


class QuestionResult(BaseModel):
    question_id: int
    correct: bool
    points: float


class SubmissionOut(BaseModel):
    id: int
    assignment_id: int
    user_id: int
    attempt: int
    score: float
    max_score: float
    status: SubmissionStatus
    submitted_at: datetime
    answers: dict[str, Any]
    results: list[QuestionResult] | None = Field(
        description="Per-question results, when the reveal policy allows (else null)"
    )


class SubmissionList(BaseModel):
    submissions: list[SubmissionOut]
    pagination: Pagination


class AnswerOut(BaseModel):
    question_id: int
    type: QuestionType
    options: list[str]
    correct_answer: Any
    tolerance: float | None
    explanation: str
    points: float


class AnswerKey(BaseModel):
    assignment_id: int
    answers: list[AnswerOut]
