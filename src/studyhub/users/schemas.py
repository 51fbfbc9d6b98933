from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator

from studyhub.core.http import compute_etag
from studyhub.core.pagination import Pagination
from studyhub.core.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from studyhub.core.schemas import BatchRowError, BatchRowStatus, StrictModel
from studyhub.users.models import User, UserRole

Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$"
    ),
]
Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]

MAX_BATCH_USERS = 500
# The allow-list of `sort` values (the repository maps each field to its column).
UserSort = Literal[
    "username",
    "-username",
    "email",
    "-email",
    "created_at",
    "-created_at",
    "last_login_at",
    "-last_login_at",
    "role",
    "-role",
]


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    email: str
    role: UserRole
    first_name: str
    last_name: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


def user_etag(user: User) -> str:
    """The ETag of a user's `User` representation (what GET, PATCH and If-Match compare)."""
    return compute_etag(UserOut.model_validate(user))


class UserCreate(StrictModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "ada",
                    "email": "ada@example.com",
                    "password": "correct horse battery",
                    "role": "teacher",
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                }
            ]
        }
    )

    username: Username
    email: EmailStr
    password: Password
    role: UserRole
    first_name: PersonName = ""
    last_name: PersonName = ""
    is_active: bool = True


class UserUpdate(StrictModel):
    """Only the fields sent change. `username` is immutable (it is how people log in)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"role": "ta", "is_active": True}]})

    email: EmailStr | None = None
    role: UserRole | None = None
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    is_active: bool | None = None
    password: Password | None = Field(
        default=None, description="Sets a new password and ends all the user's sessions"
    )

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Absent means "leave as is"; an explicit null would be ambiguous, so it is refused.
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class UserList(BaseModel):
    users: list[UserOut]
    pagination: Pagination


class UserBatchRequest(StrictModel):
    users: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH_USERS,
        description=(
            "Up to 500 `UserCreate` objects. Each row is validated on its own: an invalid row is "
            "an error in `results`, not a 400 for the whole request (a row that is not a JSON "
            "object at all is)."
        ),
    )


class UserBatchRow(BaseModel):
    index: int = Field(description="Position of the row in the request, from 0")
    status: BatchRowStatus
    id: int | None = None
    error: BatchRowError | None = None


class UserBatchResponse(BaseModel):
    created: int
    failed: int
    results: list[UserBatchRow]


__all__ = [
    "EmailStr",
    "Password",
    "PersonName",
    "StrictModel",
    "UserBatchRequest",
    "UserBatchResponse",
    "UserCreate",
    "UserList",
    "UserOut",
    "UserSort",
    "UserUpdate",
    "Username",
    "user_etag",
]
