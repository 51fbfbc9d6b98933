from __future__ import annotations

from studyhub.core.errors import Conflict


class UsernameTaken(Conflict):
    code, message = "USERNAME_TAKEN", "That username is taken"


class EmailTaken(Conflict):
    code, message = "EMAIL_TAKEN", "That email is already registered"
