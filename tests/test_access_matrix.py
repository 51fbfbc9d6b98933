"""Role-by-endpoint matrix over every route of the app.

Each operation declares who may call it. A new route without a declaration fails the test, so the
matrix grows with the API. Disallowed callers must get 401 (anonymous) or 403/404 (a role that
is known but insufficient, or an object the caller may not see); allowed callers must get past
authorisation (no UNAUTHORIZED/FORBIDDEN; bodies here are deliberately empty, so 400 is fine).
"""

from __future__ import annotations

import re
from typing import Literal

import httpx
from fastapi import FastAPI
from jose import jwt

from studyhub.core.config import Settings
from studyhub.core.db import Database
from studyhub.enrollments.models import CourseRole
from studyhub.users.models import User, UserRole
from tests.factories import (
    attach_text_file,
    enroll,
    make_assignment,
    make_course,
    make_lecture,
    make_question,
    make_user,
    make_week,
)
from tests.helpers import bearer, login

Caller = Literal["anonymous", "student", "ta", "teacher", "admin"]
CALLERS: tuple[Caller, ...] = ("anonymous", "student", "ta", "teacher", "admin")
ANYONE = frozenset(CALLERS)
USERS = frozenset(CALLERS) - {"anonymous"}
ADMIN = frozenset({"admin"})
STAFF = frozenset({"ta", "teacher", "admin"})
TEACHERS = frozenset({"teacher", "admin"})

# operationId -> callers allowed through authorisation.
ACCESS: dict[str, frozenset[str]] = {
    "auth-login": ANYONE,
    "auth-token": ANYONE,
    "auth-refresh": ANYONE,
    "auth-register": ANYONE,
    "auth-logout": USERS,
    "auth-logout-all": USERS,
    "auth-me": USERS,
    "auth-verify-token": USERS,
    "auth-update-me": USERS,
    "auth-change-password": USERS,
    "auth-sessions-list": USERS,
    "auth-sessions-revoke": USERS,
    "users-list": ADMIN,
    "users-create": ADMIN,
    "users-get": ADMIN,
    "users-update": ADMIN,
    "users-delete": ADMIN,
    "users-batch": ADMIN,
    "users-sessions-revoke": ADMIN,
    "admin-ip-blocks-list": ADMIN,
    "admin-ip-blocks-create": ADMIN,
    "admin-ip-blocks-delete": ADMIN,
    "admin-ip-blocks-get": ADMIN,
    "admin-stats": ADMIN,
    "admin-outbox-list": ADMIN,
    "admin-outbox-retry": ADMIN,
    # Course-scoped rows: "teacher", "ta" and "student" hold those roles in the course under test.
    "courses-list": USERS,
    "courses-create": frozenset({"teacher", "admin"}),
    "courses-get": USERS,
    "courses-update": frozenset({"teacher", "admin"}),
    "courses-delete": frozenset({"teacher", "admin"}),
    "weeks-list": USERS,
    "weeks-get": USERS,
    "lectures-get": USERS,
    "lectures-file-download": USERS,
    "weeks-create": STAFF,
    "weeks-update": STAFF,
    "weeks-delete": STAFF,
    "lectures-create": STAFF,
    "lectures-update": STAFF,
    "lectures-delete": STAFF,
    "lectures-file-upload": STAFF,
    # Self-enrollment is for global students only; the matrix student is enrolled already (409)
    # and may drop; staff cannot self-drop (403) and the admin is not enrolled (404).
    "enrollments-enroll": frozenset({"student"}),
    "enrollments-drop": frozenset({"student"}),
    "enrollments-list": STAFF,
    "enrollments-create": STAFF,  # a TA may add students only (checked past the body)
    "enrollments-batch": TEACHERS,
    "enrollments-update": TEACHERS,
    "enrollments-delete": TEACHERS,
    "me-courses": USERS,
    "questions-list": STAFF,
    "questions-create": STAFF,
    "questions-batch": STAFF,
    "questions-get": STAFF,
    "questions-update": STAFF,
    "questions-delete": STAFF,
    "assignments-list": USERS,
    "assignments-get": USERS,
    "assignments-answers": USERS,
    "assignments-create": STAFF,
    "assignments-update": STAFF,
    "assignments-delete": STAFF,
    "assignments-set-questions": STAFF,
    # Only the course's active students submit; staff and admins are refused (403).
    "submissions-create": frozenset({"student"}),
    "submissions-list": USERS,
    # Needs a reader of the course; 503 (search not configured here) is past authorisation.
    "lectures-similar": USERS,
    "search-query": USERS,
    # Owner-only: the matrix creates no personal objects, so by-id operations are 404 for every
    # caller, which is right (someone else's folder or item is a 404 too).
    "personal-folders-list": USERS,
    "personal-folders-create": USERS,
    "personal-folders-get": USERS,
    "personal-folders-update": USERS,
    "personal-folders-delete": USERS,
    "personal-items-list": USERS,
    "personal-items-create": USERS,
    "personal-items-get": USERS,
    "personal-items-update": USERS,
    "personal-items-delete": USERS,
    "personal-items-download": USERS,
    # Progress: only the course's active students record it; staff read everyone's.
    "progress-lecture-event": frozenset({"student"}),
    "progress-lecture-uncomplete": frozenset({"student"}),
    "progress-batch": USERS,  # events are checked one by one against the caller's enrollments
    "progress-course-get": USERS,
    "progress-me": USERS,
    "progress-students-list": STAFF,
    "progress-students-get": STAFF,
    "progress-summary": STAFF,
}
# Operations whose object the matrix does not create: a 404 there is not an access failure.
MAY_BE_MISSING = {
    "admin-ip-blocks-delete",
    "admin-ip-blocks-get",
    "admin-outbox-retry",
    "personal-folders-get",
    "personal-folders-update",
    "personal-folders-delete",
    "personal-items-list",
    "personal-items-create",
    "personal-items-get",
    "personal-items-update",
    "personal-items-delete",
    "personal-items-download",
}
# Served outside /api/v1 and open to anyone by design.
OPEN_OUTSIDE_API = {"health-live", "health-ready", "metrics-scrape"}


def _operations(app: FastAPI) -> list[tuple[str, str, str]]:
    """(operationId, METHOD, path) of every documented operation: the route table as clients
    see it (FastAPI resolves included routers lazily, so the OpenAPI document is the reliable
    flat view)."""
    return [
        (operation["operationId"], method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
    ]


def _api_routes(app: FastAPI) -> list[tuple[str, str, str]]:
    return [op for op in _operations(app) if op[2].startswith("/api/v1")]


def test_every_route_declares_its_access(app: FastAPI) -> None:
    names = {name for name, _, _ in _api_routes(app)}
    assert len(names) >= 10, "API routes not found"
    undeclared = names - set(ACCESS)
    assert not undeclared, f"declare access for: {sorted(undeclared)}"
    outside = {name for name, _, path in _operations(app) if not path.startswith("/api/v1")}
    assert outside == OPEN_OUTSIDE_API


async def _world(database: Database, settings: Settings, users: dict[str, User]) -> dict[str, int]:
    """A published course where the matrix's teacher, ta and student hold those roles."""
    course = await make_course(database, users["teacher"])
    await enroll(database, course, users["ta"], CourseRole.TA)
    await enroll(database, course, users["student"])
    week = await make_week(database, course)
    lecture = await make_lecture(database, week)
    await attach_text_file(database, lecture, settings.upload_dir / "files")
    question = await make_question(database, course)
    assignment = await make_assignment(database, week, [question])
    return {
        "course_id": course.id,
        "week_id": week.id,
        "lecture_id": lecture.id,
        "qid": question.id,
        "aid": assignment.id,
    }


def _fill(path: str, ids: dict[str, int]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: str(ids.get(m.group(1), 1)), path)


async def test_the_matrix(
    app: FastAPI, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    users = {
        role.value: await make_user(database, role=role, username=f"matrix_{role.value}")
        for role in UserRole
    }
    ids = await _world(database, settings, users)
    bystander = await make_user(database, username="matrix_bystander")
    failures = []
    # Deleting operations go last, each against a world of its own.
    operations = sorted(_api_routes(app), key=lambda op: op[1] == "DELETE")
    for name, method, path in operations:
        allowed = ACCESS.get(name, frozenset())
        for caller in CALLERS:
            if method == "DELETE":
                ids = await _world(database, settings, users)
            headers, own = {}, {}
            if caller != "anonymous":
                token = (await login(client, users[caller].username))["access_token"]
                headers = bearer(token)
                own = {"session_id": jwt.get_unverified_claims(token)["sid"]}
            # User administration acts on a bystander, so deactivating it spares the callers.
            target = bystander if path.startswith("/api/v1/users") else users["student"]
            url = _fill(path, {**ids, **own, "user_id": target.id})
            response = await client.request(method, url, headers=headers, json={})
            status = response.status_code
            assert status != 500, f"{method} {path} as {caller}: 500"
            error = response.json().get("error") if status >= 400 else None
            if caller in allowed:
                # Other 401/403 codes (INVALID_REFRESH_TOKEN for an empty body...) come from the
                # operation itself, past authorisation.
                ok = error not in {"UNAUTHORIZED", "FORBIDDEN", "NOT_ENROLLED"} and (
                    status != 404 or name in MAY_BE_MISSING
                )
            elif caller == "anonymous":
                ok = status == 401
            else:
                ok = status in {403, 404}
            if not ok:
                failures.append(f"{method} {path} as {caller}: {status} {error}")
    assert not failures, "\n".join(failures)
