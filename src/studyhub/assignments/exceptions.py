from __future__ import annotations

from studyhub.core.errors import Conflict, Forbidden, NotFound


class QuestionNotFound(NotFound):
    message = "Question not found"


class AssignmentNotFound(NotFound):
    message = "Assignment not found"


class QuestionInUse(Conflict):
    code, message = "QUESTION_IN_USE", "The question is used by a published assignment"


class AssignmentNotOpen(Conflict):
    code, message = "ASSIGNMENT_NOT_OPEN", "The assignment has not started yet"


class AssignmentClosed(Conflict):
    code, message = "ASSIGNMENT_CLOSED", "The assignment is past its due date"


class MaxAttemptsReached(Conflict):
    code, message = "MAX_ATTEMPTS_REACHED", "No attempts left for this assignment"


class IdempotencyKeyReused(Conflict):
    code, message = (
        "IDEMPOTENCY_KEY_REUSED",
        "This Idempotency-Key was used for a submission with other answers",
    )


class NotAStudent(Forbidden):
    message = "Only the course's active students submit answers"


class AnswersNotAvailable(Forbidden):
    code, message = "ANSWERS_NOT_AVAILABLE", "The answers are not available yet"
