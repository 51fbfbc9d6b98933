"""Auto-grading (API.md §4): a question earns its full points or nothing.

Pure functions over plain values, so they are tested exhaustively without a database. A missing or
malformed answer is simply wrong: grading never raises on what a client sends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from studyhub.assignments.models import QuestionType

# Absolute slack for floating-point noise at the tolerance boundary (0.1 + 0.2 vs 0.3).
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Gradable:
    id: int
    type: QuestionType
    correct_answer: Any
    tolerance: float | None
    points: float


@dataclass(frozen=True, slots=True)
class Graded:
    question_id: int
    correct: bool
    points: float


def _as_index(value: object) -> int | None:
    """An option index: an int, or an integral float (JSON `2.0`); never a bool."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and len(value) <= 64:
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _index_set(value: object) -> frozenset[int] | None:
    if not isinstance(value, list):
        return None
    indexes = [_as_index(item) for item in value]
    if any(index is None for index in indexes):
        return None
    return frozenset(index for index in indexes if index is not None)


def is_correct(question: Gradable, answer: object) -> bool:
    if question.type is QuestionType.MCQ:
        given = _as_index(answer)
        return given is not None and given == _as_index(question.correct_answer)
    if question.type is QuestionType.MSQ:
        given_set = _index_set(answer)
        expected = _index_set(question.correct_answer)
        return given_set is not None and expected is not None and given_set == expected
    given_number = _as_number(answer)
    expected_number = _as_number(question.correct_answer)
    if given_number is None or expected_number is None:
        return False
    tolerance = question.tolerance or 0.0
    return abs(given_number - expected_number) <= tolerance + _EPSILON * max(
        1.0, abs(expected_number)
    )


def grade(questions: list[Gradable], answers: dict[str, Any]) -> list[Graded]:
    results = []
    for question in questions:
        correct = is_correct(question, answers.get(str(question.id)))
        results.append(Graded(question.id, correct, question.points if correct else 0.0))
    return results


def apply_penalty(score: float, penalty_percent: float) -> float:
    return round(score * (1 - penalty_percent / 100), 4)
