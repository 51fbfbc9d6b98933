"""Hypothesis fuzzing of the pure parsers and graders: nothing a client or an export file holds may
raise anything but the documented validation errors, and what they compute stays in range.

- course importer (`importer.service.load`): any bytes or JSON -> a `CourseFile` or `ImportFailed`;
- question answers (`QuestionCreate`, `check_answer`) -> a normalised answer or `ValidationError`;
- grading (`grading.grade`, `apply_penalty`): never raises; 0 <= points <= the question's points;
- progress (`BatchEvent`, `LectureEventIn`, `merge`): any event object -> an event or
  `ValidationError`; the merge is independent of order and duplicates and keeps its invariants
  for the extreme values the schemas let through (tests/progress/test_merge.py covers the rules).
"""

from __future__ import annotations

import json
import math
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from studyhub.assignments.grading import Gradable, apply_penalty, grade, is_correct
from studyhub.assignments.models import QuestionType
from studyhub.assignments.schemas import QuestionCreate, check_answer
from studyhub.core.schemas import _unstorable
from studyhub.importer.service import ImportFailed, all_lectures, count_items, day_shift, load
from studyhub.progress.merge import (
    MAX_ACTIVE_SECONDS_PER_EVENT,
    Event,
    EventType,
    ItemState,
    combine,
    fold_event,
    merge,
)
from studyhub.progress.schemas import BatchEvent, LectureEventIn

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field that is usually well-formed, sometimes any JSON value, sometimes missing."""
    return st.one_of(value, value, json_values)


# -- course importer -------------------------------------------------------------------------

file_lecture = st.fixed_dictionaries(
    {"lecture_id": _maybe(st.integers(0, 5)), "title": _maybe(st.text(min_size=1, max_size=8))},
    optional={
        "week_id": _maybe(st.integers(0, 5)),
        "duration_minutes": _maybe(st.floats(min_value=-1, max_value=1e6)),
        "resource_type": _maybe(st.sampled_from(["youtube", "pdf", "text", "link", "weird"])),
    },
)
file_week = st.fixed_dictionaries(
    {
        "week_id": _maybe(st.integers(0, 5)),
        "order": _maybe(st.integers(-1, 1001)),
        "title": _maybe(st.text(min_size=1, max_size=8)),
    },
    optional={"lectures": st.lists(file_lecture, max_size=3)},
)
file_question = st.fixed_dictionaries(
    {
        "question_id": _maybe(st.integers(0, 5)),
        "content": _maybe(st.text(min_size=1, max_size=20)),
        "type": _maybe(st.sampled_from(["MCQ", "msq", "Numeric", "essay"])),
    },
    optional={
        "question_options": _maybe(st.lists(st.text(max_size=6), max_size=5)),
        "correct_answer": json_values,
        "points": _maybe(st.floats(min_value=-10, max_value=1e9)),
    },
)
file_assignment = st.fixed_dictionaries(
    {
        "assignment_id": _maybe(st.integers(0, 5)),
        "week_id": _maybe(st.integers(0, 5)),
        "title": _maybe(st.text(min_size=1, max_size=8)),
        "type": _maybe(st.sampled_from(["practice", "graded", "quiz"])),
    },
    optional={
        "start_date": _maybe(st.dates().map(str)),
        "due_date": _maybe(st.dates().map(str)),
        "question_ids": _maybe(st.lists(st.integers(0, 5), max_size=4)),
    },
)
course_files = st.fixed_dictionaries(
    {
        "course": _maybe(
            st.fixed_dictionaries(
                {"code": _maybe(st.text(max_size=22)), "title": _maybe(st.text(max_size=8))}
            )
        ),
        "weeks": _maybe(st.lists(file_week, max_size=4)),
    },
    optional={
        "lectures": st.lists(file_lecture, max_size=3),
        "questions": st.lists(file_question, max_size=4),
        "assignments": st.lists(file_assignment, max_size=3),
        "extra": json_values,
    },
)


def _load(raw: bytes) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "course.json"
        path.write_bytes(raw)
        try:
            data = load(path)
        except ImportFailed as exc:
            failure: ImportFailed | None = exc
        else:
            failure = None
    if failure is not None:
        assert str(failure) and failure.exit_code == 2
        return None
    # What the importer computes from a file it accepted must not raise either.
    lectures = all_lectures(data)
    assert len({id(lecture) for _, lecture in lectures}) == len(lectures)
    assert count_items(data) >= 0
    day_shift(data, datetime.now(UTC).date())
    return data


@FUZZ
@given(st.one_of(course_files, json_values))
def test_importer_accepts_or_reports_any_json(document: Any) -> None:
    data = _load(json.dumps(document, allow_nan=True).encode())
    # Accepted only when the document is an object (a course file), never a bare value.
    assert data is None or isinstance(document, dict)


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "replace")))
def test_importer_reports_any_bytes(raw: bytes) -> None:
    data = _load(raw)
    assert data is None or raw.strip().startswith(b"{")


# -- question answers and grading -------------------------------------------------------------

kinds = st.sampled_from(list(QuestionType))
options = st.lists(st.text(min_size=1, max_size=6), max_size=6)


@FUZZ
@given(kinds, options, json_values)
def test_check_answer_normalises_or_names_the_problem(
    kind: QuestionType, opts: list[str], answer: Any
) -> None:
    try:
        normalised = check_answer(kind, opts, answer)
    except ValueError as exc:
        problem = str(exc) or "(no message)"
    else:
        problem = ""
    if problem:
        assert problem != "(no message)", "a rejected answer must say what is wrong"
        return
    if kind is QuestionType.MCQ:
        assert isinstance(normalised, int) and 0 <= normalised < len(opts)
    elif kind is QuestionType.MSQ:
        assert isinstance(normalised, list) and normalised == sorted(set(normalised))
        assert all(0 <= i < len(opts) for i in normalised)
    else:
        assert isinstance(normalised, int | float) and math.isfinite(normalised)
    # A stored correct answer is always graded correct against itself.
    question = Gradable(1, kind, normalised, None, 1.0)
    assert is_correct(question, normalised)


@FUZZ
@given(
    st.fixed_dictionaries(
        {"content": json_values, "type": json_values, "correct_answer": json_values},
        optional={
            "options": json_values,
            "tolerance": json_values,
            "points": json_values,
            "title": json_values,
            "status": json_values,
            "unknown": json_values,
        },
    )
)
def test_question_bodies_validate_or_fail_with_a_validation_error(body: dict[str, Any]) -> None:
    try:
        question = QuestionCreate.model_validate(body)
    except ValidationError as exc:
        problems = exc.errors()
    else:
        problems = []
    if problems:
        assert all(p["loc"] or p["type"] for p in problems), "a refused body names what is wrong"
        return
    assert "unknown" not in body  # extra keys are refused (no mass assignment)
    assert question.type in set(QuestionType)


gradables = st.builds(
    Gradable,
    id=st.integers(1, 50),
    type=kinds,
    correct_answer=json_values,
    tolerance=st.none() | st.floats(min_value=0, max_value=1e6),
    points=st.floats(min_value=0, max_value=1e6),
)


@FUZZ
@given(st.lists(gradables, max_size=6), st.dictionaries(st.text(max_size=3), json_values))
def test_grading_never_raises_and_stays_within_the_points(
    questions: list[Gradable], answers: dict[str, Any]
) -> None:
    results = grade(questions, answers)
    assert [r.question_id for r in results] == [q.id for q in questions]
    for question, result in zip(questions, results, strict=True):
        assert result.points == (question.points if result.correct else 0.0)
        assert 0 <= result.points <= question.points
    total = sum(r.points for r in results)
    assert 0 <= total <= sum(q.points for q in questions)


@FUZZ
@given(st.floats(min_value=0, max_value=1e9), st.floats(min_value=0, max_value=100))
def test_a_late_penalty_keeps_the_score_between_zero_and_itself(
    score: float, penalty: float
) -> None:
    penalised = apply_penalty(score, penalty)
    assert 0 <= penalised <= score + 1e-4


# -- progress events ---------------------------------------------------------------------------

timestamps = st.one_of(
    st.datetimes(timezones=st.none() | st.just(UTC)).map(lambda d: d.isoformat()),
    st.text(max_size=30),
    json_values,
)


@FUZZ
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "event_id": _maybe(st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True)),
            "course_id": json_values,
            "lecture_id": _maybe(st.integers(-1, 2**32)),
            "type": _maybe(st.sampled_from([t.value for t in EventType])),
            "occurred_at": timestamps,
            "position_seconds": _maybe(st.integers(-5, 10**7)),
            "active_seconds": _maybe(st.integers(-5, 10**6)),
            "state": json_values,
        },
    )
)
def test_progress_events_validate_or_fail_with_a_validation_error(raw: dict[str, Any]) -> None:
    for model in (BatchEvent, LectureEventIn):
        try:
            event = model.model_validate(raw)
        except ValidationError:
            continue
        if event.occurred_at is not None:
            assert event.occurred_at.tzinfo is not None
            assert event.occurred_at.utcoffset() == timedelta(0)


# Text a database cannot store (NUL, a lone surrogate) spliced into an otherwise valid value.
_BAD = st.sampled_from(["\x00", "\ud800", "\udfff"])


def _spliced(valid: str) -> st.SearchStrategy[str]:
    return st.tuples(st.integers(0, len(valid)), _BAD).map(
        lambda c: valid[: c[0]] + c[1] + valid[c[0] :]
    )


_VALID_EVENT = {
    "event_id": "ev-1",
    "course_id": 1,
    "lecture_id": 2,
    "type": "position",
    "occurred_at": "2026-01-01T00:00:00+00:00",
    "position_seconds": 3,
    "active_seconds": 4,
}


@FUZZ
@given(
    st.sampled_from(sorted(_VALID_EVENT)).flatmap(
        lambda field: st.tuples(st.just(field), _spliced(str(_VALID_EVENT[field])))
    )
)
def test_batch_events_refuse_unstorable_text_in_every_field(spliced: tuple[str, str]) -> None:
    """`BatchEvent` is not a `StrictModel` (no per-field text check, for speed): each of its
    fields must refuse NUL characters and lone surrogates by its own constraints."""
    field, value = spliced
    assert _unstorable(value) is not None
    with pytest.raises(ValidationError):
        BatchEvent.model_validate({**_VALID_EVENT, field: value})


# Extreme but schema-valid events: years 1-9999, positions up to a week, active up to a day.
events = st.lists(
    st.builds(
        Event,
        event_id=st.from_regex(r"[a-z0-9]{1,4}", fullmatch=True),
        type=st.sampled_from(list(EventType)),
        occurred_at=st.datetimes().map(lambda d: d.replace(tzinfo=UTC)),
        position_seconds=st.none() | st.integers(0, 7 * 24 * 3600),
        active_seconds=st.none() | st.integers(0, 86_400),
    ),
    max_size=12,
)
durations = st.none() | st.integers(0, 7 * 24 * 3600)


@FUZZ
@given(events, durations, st.randoms(use_true_random=False))
def test_merge_is_idempotent_order_independent_and_in_range(
    batch: list[Event], duration: int | None, rnd: Any
) -> None:
    merged = merge(batch, duration)
    shuffled = list(batch) * 2
    rnd.shuffle(shuffled)
    # Duplicated ids name one event: which copy wins is the applied-events table's concern, so
    # the shuffle keeps the first copy of each id first.
    first: dict[str, Event] = {}
    for event in batch:
        first.setdefault(event.event_id, event)
    replay = list(first.values()) + shuffled
    assert merge(replay, duration) == merge(list(reversed(first.values())), duration) == merged

    outcome, folded = merged.outcome, merged.fold
    assert 0 <= outcome.active_seconds <= folded.active_seconds_raw
    assert folded.active_seconds_raw <= MAX_ACTIVE_SECONDS_PER_EVENT * len(first)
    if duration:
        assert 0 <= folded.furthest_position_seconds <= duration
    if outcome.completed_at is not None:
        assert outcome.state is ItemState.COMPLETED
        assert folded.first_viewed_at is not None
        assert folded.first_viewed_at <= outcome.completed_at
    elif not first:
        assert outcome.state is ItemState.NOT_STARTED


@FUZZ
@given(events, events, durations)
def test_combine_of_two_batches_is_the_fold_of_both(
    one: list[Event], two: list[Event], duration: int | None
) -> None:
    ids = {e.event_id for e in one}
    two = [e for e in two if e.event_id not in ids]
    left = merge(one, duration).fold
    right = merge(two, duration).fold
    assert combine(left, right) == combine(right, left) == merge(one + two, duration).fold
    for event in one:
        assert fold_event(event, duration).active_seconds_raw <= MAX_ACTIVE_SECONDS_PER_EVENT
