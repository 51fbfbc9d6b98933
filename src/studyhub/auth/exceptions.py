from __future__ import annotations

from studyhub.core.errors import Forbidden, Unauthorized, ValidationFailed


class InvalidCredentials(Unauthorized):
    code, message = "INVALID_CREDENTIALS", "Invalid username or password"


class AccountDisabled(Forbidden):
    code, message = "ACCOUNT_DISABLED", "This account is disabled"


class InvalidRefreshToken(Unauthorized):
    code, message = "INVALID_REFRESH_TOKEN", "The refresh token is invalid or expired"


class InvalidAccessToken(Unauthorized):
    code, message = "UNAUTHORIZED", "Missing, invalid or expired access token"


class InvalidPassword(ValidationFailed):
    code, message = "INVALID_PASSWORD", "The current password is not correct"


class CsrfFailed(Forbidden):
    code, message = "CSRF_FAILED", "Missing or wrong X-CSRF-Token header"


class RegistrationClosed(Forbidden):
    code, message = "REGISTRATION_CLOSED", "Self-registration is disabled"
