from __future__ import annotations

from studyhub.core.errors import Conflict, Forbidden, NotFound


class EnrollmentNotFound(NotFound):
    message = "Enrollment not found"


class NotEnrolledHere(NotFound):
    message = "You are not enrolled in this course"


class UserNotFound(NotFound):
    message = "User not found"


class AlreadyEnrolled(Conflict):
    code, message = "ALREADY_ENROLLED", "The user is already enrolled in this course"


class CourseFull(Conflict):
    code, message = "COURSE_FULL", "The course has no free seats"


class LastTeacher(Conflict):
    code, message = "LAST_TEACHER", "A course must keep at least one teacher"


class EnrollmentClosed(Forbidden):
    code, message = "ENROLLMENT_CLOSED", "This course is not open for enrollment"


class StudentsOnly(Forbidden):
    message = "Only students may enroll themselves"


class StaffMayNotSelfDrop(Forbidden):
    message = "Course staff are removed by the course's teachers"


class TaAddsStudentsOnly(Forbidden):
    message = "Teaching assistants may add students only"
