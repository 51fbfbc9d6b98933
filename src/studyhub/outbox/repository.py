"""SQL for the outbox. Writers add jobs inside the request's transaction; the relay claims them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from studyhub.core.db import utcnow
from studyhub.outbox.models import OutboxEvent, OutboxKind, OutboxStatus, SubjectType

DUE_STATUSES = (OutboxStatus.PENDING, OutboxStatus.PROCESSING)


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed event, detached from any session (the HTTP call happens outside a transaction)."""

    id: int
    kind: OutboxKind
    status: OutboxStatus
    subject_type: SubjectType
    subject_id: int
    payload: dict[str, Any]
    document_id: str | None
    attempts: int


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- writers (inside the change's own transaction) -------------------------------------------

    def enqueue_index(
        self, subject_type: SubjectType, subject_id: int, payload: dict[str, Any]
    ) -> OutboxEvent:
        event = OutboxEvent(
            kind=OutboxKind.INDEX,
            subject_type=subject_type,
            subject_id=subject_id,
            payload=payload,
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=utcnow(),
        )
        self.session.add(event)
        return event

    def enqueue_delete(
        self, subject_type: SubjectType, subject_id: int, document_id: str
    ) -> OutboxEvent:
        event = OutboxEvent(
            kind=OutboxKind.DELETE,
            subject_type=subject_type,
            subject_id=subject_id,
            payload={"document_id": document_id},
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=utcnow(),
            document_id=document_id,
        )
        self.session.add(event)
        return event

    # -- the relay --

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[Job]:
        """Take up to `limit` due jobs and hide them for `lease` (a crashed relay's jobs become due
        again then: at-least-once). PostgreSQL: `FOR UPDATE SKIP LOCKED`, so several relays
        (one per worker) share the queue without waiting on each other. SQLite ignores the clause;
        its write transaction (`BEGIN IMMEDIATE`) serialises claims instead."""
        rows = await self.session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.status.in_(DUE_STATUSES), OutboxEvent.next_attempt_at <= now)
            .order_by(OutboxEvent.next_attempt_at, OutboxEvent.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        jobs = []
        for event in rows:
            event.next_attempt_at = now + lease
            jobs.append(
                Job(
                    event.id,
                    event.kind,
                    event.status,
                    event.subject_type,
                    event.subject_id,
                    dict(event.payload or {}),
                    event.document_id,
                    event.attempts,
                )
            )
        await self.session.flush()
        return jobs

    async def get(self, event_id: int, *, lock: bool = False) -> OutboxEvent | None:
        stmt = select(OutboxEvent).where(OutboxEvent.id == event_id)
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def update(self, event_id: int, **values: Any) -> None:
        await self.session.execute(
            update(OutboxEvent).where(OutboxEvent.id == event_id).values(**values)
        )

    # -- admin --

    async def page(
        self, status: OutboxStatus | None, *, offset: int, limit: int
    ) -> tuple[list[OutboxEvent], int]:
        where = [] if status is None else [OutboxEvent.status == status]
        total = await self.session.scalar(
            select(func.count()).select_from(OutboxEvent).where(*where)
        )
        rows = await self.session.scalars(
            select(OutboxEvent)
            .where(*where)
            .order_by(OutboxEvent.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows), int(total or 0)
