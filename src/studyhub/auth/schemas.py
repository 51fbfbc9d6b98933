from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, EmailStr, Field, model_validator

from studyhub.core.schemas import StrictModel
from studyhub.users.schemas import Password, PersonName, Username, UserOut

LoginName = Annotated[str, Field(min_length=1, max_length=254)]
# Login accepts any submitted password length up to a bound: a too-short or too-long password is
# simply wrong (401), never a validation error that reveals the policy for that account.
LoginPassword = Annotated[str, Field(min_length=1, max_length=1024)]
OpaqueToken = Annotated[str, Field(min_length=1, max_length=512)]


class LoginRequest(StrictModel):
    username: LoginName | None = Field(default=None, description="Username or email")
    email: LoginName | None = None
    password: LoginPassword
    refresh_cookie: bool = Field(
        default=False, description="Return the refresh token as an HttpOnly cookie"
    )

    @model_validator(mode="after")
    def _one_login(self) -> Self:
        if not (self.username or self.email):
            raise ValueError("username or email is required")
        return self

    @property
    def login(self) -> str:
        return (self.username or self.email or "").strip()


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int = Field(description="Access token lifetime in seconds")
    refresh_token: str | None = Field(description="Absent in cookie mode")
    refresh_expires_in: int
    user: UserOut


class RefreshRequest(StrictModel):
    refresh_token: OpaqueToken | None = Field(
        default=None, description="Omit in cookie mode (send the cookie and X-CSRF-Token)"
    )


class LogoutRequest(StrictModel):
    refresh_token: OpaqueToken | None = None


class VerifyTokenResponse(BaseModel):
    valid: bool
    user: UserOut


class ProfileUpdate(StrictModel):
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    email: EmailStr | None = None


class ChangePasswordRequest(StrictModel):
    current_password: LoginPassword
    new_password: Password


class RegisterRequest(StrictModel):
    username: Username
    email: EmailStr
    password: Password
    first_name: PersonName = ""
    last_name: PersonName = ""


class SessionOut(BaseModel):
    id: int
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str
    ip: str
    current: bool


class SessionsResponse(BaseModel):
    sessions: list[SessionOut]
