"""Grading rules (API.md §4), unit and property tests: full points or nothing, never an error."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studyhub.assignments.grading import Gradable, apply_penalty, grade, is_correct
from studyhub.assignments.models import QuestionType

MCQ = Gradable(1, QuestionType.MCQ, 2, None, 3.0)
MSQ = Gradable(2, QuestionType.MSQ, [0, 3], None, 2.0)
NUM = Gradable(3, QuestionType.NUMERIC, 10.5, 0.25, 5.0)


@pytest.mark.parametrize(
    ("question", "answer", "expected"),
    [
        (MCQ, 2, True),
        (MCQ, 2.0, True),
        (MCQ, 1, False),
        (MCQ, "2", False),
        (MCQ, True, False),
        (MCQ, None, False),
        (MCQ, [2], False),
        (MSQ, [3, 0], True),
        (MSQ, [0, 3, 3], True),
        (MSQ, [0], False),
        (MSQ, [0, 1, 3], False),
        (MSQ, [], False),
        (MSQ, "0,3", False),
        (MSQ, [0, "3"], False),
        (MSQ, {"0": 1}, False),
        (NUM, 10.5, True),
        (NUM, 10.75, True),
        (NUM, 10.25, True),
        (NUM, "10.6", True),
        (NUM, 10.76, False),
        (NUM, float("nan"), False),
        (NUM, "inf", False),
        (NUM, "ten", False),
        (NUM, False, False),
        (NUM, [10.5], False),
    ],
)
def test_is_correct(question: Gradable, answer: Any, expected: bool) -> None:
    assert is_correct(question, answer) is expected


def test_grade_awards_full_points_or_nothing() -> None:
    results = grade([MCQ, MSQ, NUM], {"1": 2, "2": [0], "3": "nonsense", "99": 1})
    assert [(r.question_id, r.correct, r.points) for r in results] == [
        (1, True, 3.0),
        (2, False, 0.0),
        (3, False, 0.0),
    ]


def test_penalty() -> None:
    assert apply_penalty(10, 25) == 7.5
    assert apply_penalty(10, 0) == 10
    assert apply_penalty(10, 100) == 0


@st.composite
def msq_case(draw: st.DrawFn) -> tuple[int, list[int]]:
    size = draw(st.integers(min_value=2, max_value=10))
    correct = draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=size, unique=True))
    return size, correct


@given(msq_case(), st.data())
def test_msq_order_and_duplicates_do_not_matter(case: tuple[int, list[int]], data: Any) -> None:
    _, correct = case
    question = Gradable(1, QuestionType.MSQ, correct, None, 1.0)
    answer = data.draw(st.permutations(correct)) + data.draw(
        st.lists(st.sampled_from(correct), max_size=5)
    )
    assert is_correct(question, answer)


@given(msq_case(), st.data())
def test_msq_any_other_set_scores_zero(case: tuple[int, list[int]], data: Any) -> None:
    size, correct = case
    answer = data.draw(st.lists(st.integers(0, size - 1), max_size=size * 2))
    question = Gradable(1, QuestionType.MSQ, correct, None, 1.0)
    assert is_correct(question, answer) is (set(answer) == set(correct))
    (result,) = grade([question], {"1": answer})
    assert result.points in (0.0, 1.0)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
tolerances = st.floats(min_value=0, max_value=1e3, allow_nan=False, allow_infinity=False)


@given(finite, tolerances, st.floats(min_value=-1, max_value=1))
def test_numeric_within_tolerance_is_correct(value: float, tolerance: float, f: float) -> None:
    question = Gradable(1, QuestionType.NUMERIC, value, tolerance, 1.0)
    assert is_correct(question, value + f * tolerance)


@given(finite, tolerances, st.floats(min_value=1e-2, max_value=1e6))
def test_numeric_outside_tolerance_is_wrong(value: float, tolerance: float, gap: float) -> None:
    question = Gradable(1, QuestionType.NUMERIC, value, tolerance, 1.0)
    assert not is_correct(question, value + tolerance + gap)
    assert not is_correct(question, value - tolerance - gap)


@given(st.one_of(st.none(), st.booleans(), st.text(), st.dictionaries(st.text(), st.integers())))
def test_malformed_answers_never_raise(answer: Any) -> None:
    for question in (MCQ, MSQ, NUM):
        assert grade([question], {str(question.id): answer})[0].points in (0.0, question.points)
