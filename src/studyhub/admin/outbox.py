"""Admin view of the StudyIndexer outbox: list jobs, put a failed or dead one back in the queue."""

from __future__ import annotations

from studyhub.admin.exceptions import OutboxEventNotFound, OutboxEventNotRetryable
from studyhub.core.db import utcnow
from studyhub.core.pagination import PageParams
from studyhub.outbox.models import OutboxEvent, OutboxKind, OutboxStatus
from studyhub.outbox.repository import OutboxRepository

RETRYABLE = (OutboxStatus.FAILED, OutboxStatus.DEAD)


class OutboxAdminService:
    def __init__(self, outbox: OutboxRepository) -> None:
        self.outbox = outbox

    async def list(
        self, status: OutboxStatus | None, params: PageParams
    ) -> tuple[list[OutboxEvent], int]:
        return await self.outbox.page(status, offset=params.offset, limit=params.limit)

    async def retry(self, event_id: int) -> OutboxEvent:
        event = await self.outbox.get(event_id, lock=True)
        if event is None:
            raise OutboxEventNotFound
        if event.status not in RETRYABLE:
            raise OutboxEventNotRetryable(details={"status": [event.status.value]})
        event.status = OutboxStatus.PENDING
        event.attempts = 0
        event.next_attempt_at = utcnow()
        if event.kind is OutboxKind.INDEX:
            event.document_id = None  # StudyIndexer failed it: upload afresh
        await self.outbox.session.flush()
        return event
