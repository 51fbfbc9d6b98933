from __future__ import annotations

from studyhub.core.errors import Conflict


class UsernameTaken(Conflict):
    code, message = "USERNAME_TAKEN", "That username is taken"


class EmailTaken(Conflict):
    code, message = "EMAIL_TAKEN", "That email is already registered"


class SelfLockout(Conflict):
    """An admin may not deactivate, delete or demote their own account: it could leave the
    service with no admin, and an accidental click would lock the caller out mid-session."""

    code, message = "SELF_LOCKOUT", "You cannot deactivate or demote your own account"
