from __future__ import annotations

from studyhub.core.errors import Forbidden, NotFound, ValidationFailed


class NotStudent(Forbidden):
    message = "Only the course's active students record progress"


class StudentNotFound(NotFound):
    message = "Student not found in this course"


class EventRejected(ValidationFailed):
    message = "The progress event was rejected"
