from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from studyhub.core.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from studyhub.core.schemas import StrictModel
from studyhub.users.models import UserRole

Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$"
    ),
]
Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


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


__all__ = ["EmailStr", "Password", "PersonName", "StrictModel", "UserOut", "Username"]
