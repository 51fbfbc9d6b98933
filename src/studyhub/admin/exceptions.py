from __future__ import annotations

from studyhub.core.errors import Conflict, NotFound


class IpBlockNotFound(NotFound):
    message = "IP block not found"


class OutboxEventNotFound(NotFound):
    message = "Outbox event not found"


class OutboxEventNotRetryable(Conflict):
    code, message = "NOT_RETRYABLE", "Only failed or dead jobs can be retried"
