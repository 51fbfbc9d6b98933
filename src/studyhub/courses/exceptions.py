from __future__ import annotations

from studyhub.core.errors import Conflict, Forbidden, NotFound


class CourseNotFound(NotFound):
    message = "Course not found"


class WeekNotFound(NotFound):
    message = "Week not found"


class LectureNotFound(NotFound):
    message = "Lecture not found"


class CourseCodeTaken(Conflict):
    code, message = "COURSE_CODE_TAKEN", "A course with that code exists"


class WeekNumberTaken(Conflict):
    code, message = "WEEK_NUMBER_TAKEN", "The course already has a week with that number"


class LectureNumberTaken(Conflict):
    code, message = "LECTURE_NUMBER_TAKEN", "The week already has a lecture with that number"


class NotEnrolled(Forbidden):
    code, message = "NOT_ENROLLED", "Enroll in the course to see its content"


class NotCourseStaff(Forbidden):
    message = "Only the course's teachers and TAs may do this"


class NotCourseTeacher(Forbidden):
    message = "Only the course's teachers may do this"
