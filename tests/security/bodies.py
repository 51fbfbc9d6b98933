"""A schema-valid JSON body for every operation that takes one.

`valid_body` raises KeyError for an operation it does not know, so a new endpoint with a JSON body
fails the mass-assignment test until it is described here (and is then covered automatically).
Bodies need only pass validation: the operation may still refuse them for business reasons.
"""

from __future__ import annotations

import itertools
from typing import Any

from tests.factories import DEFAULT_PASSWORD
from tests.security.world import Side

_n = itertools.count(1)


def valid_body(operation_id: str, side: Side) -> dict[str, Any]:
    n = next(_n)
    ids = side.ids
    bodies: dict[str, dict[str, Any]] = {
        "auth-login": {"username": side.users["student2"].username, "password": DEFAULT_PASSWORD},
        "auth-refresh": {"refresh_token": "not-a-real-token"},
        "auth-logout": {},
        "auth-update-me": {"first_name": "Ada"},
        "auth-change-password": {
            "current_password": "not-the-password",
            "new_password": "another long password",
        },
        "auth-register": {
            "username": f"sec_reg{n}",
            "email": f"sec_reg{n}@example.org",
            "password": "long enough password",
        },
        "courses-create": {"code": f"SECN{n}", "name": "New course"},
        "courses-update": {"name": "Renamed course"},
        "weeks-create": {"number": 100 + n, "title": "New week"},
        "weeks-update": {"title": "Renamed week"},
        "lectures-create": {"title": "New lecture", "content_type": "text"},
        "lectures-update": {"title": "Renamed lecture"},
        "enrollments-create": {"user_id": side.users["student2"].id},
        "enrollments-batch": {"enrollments": [{"user_id": side.users["student2"].id}]},
        "enrollments-update": {"status": "active"},
        "questions-create": {
            "content": "Which?",
            "type": "mcq",
            "options": ["a", "b"],
            "correct_answer": 0,
        },
        "questions-batch": {
            "questions": [
                {"content": "Which?", "type": "mcq", "options": ["a", "b"], "correct_answer": 0}
            ]
        },
        "questions-update": {"title": "Renamed question"},
        "assignments-create": {"title": "New assignment", "type": "practice"},
        "assignments-update": {"title": "Renamed assignment"},
        "assignments-set-questions": {"question_ids": [ids["qid"]]},
        "submissions-create": {"answers": {str(ids["qid"]): 0}},
        "personal-folders-create": {"name": f"Folder {n}"},
        "personal-folders-update": {"name": "Renamed folder"},
        "personal-items-create": {"title": "Note", "content": "text"},
        "personal-items-update": {"title": "Renamed note"},
        "progress-lecture-event": {"state": "in_progress", "position_seconds": 1},
        "progress-batch": {"events": []},
        "admin-ip-blocks-create": {"network": f"192.0.2.{n % 250 + 1}", "reason": "test"},
        "users-create": {
            "username": f"sec_user{n}",
            "email": f"sec_user{n}@example.org",
            "password": "long enough password",
            "role": "student",
        },
        "users-batch": {
            "users": [
                {
                    "username": f"sec_batch{n}",
                    "email": f"sec_batch{n}@example.org",
                    "password": "long enough password",
                    "role": "student",
                }
            ]
        },
        "users-update": {"first_name": "Grace"},
    }
    return bodies[operation_id]


# Operations the world's admin may not call (only the course's students may); the rest go as admin.
CALLER = {
    "submissions-create": "student",
    "progress-lecture-event": "student",
}
