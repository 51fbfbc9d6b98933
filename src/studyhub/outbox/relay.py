"""The relay: delivers outbox jobs to StudyIndexer after their change has committed.

Each round claims due jobs in one short transaction, calls StudyIndexer with no transaction open,
then records the outcome in another short transaction. A job is one step at a time: upload (or
delete), then, as later due steps, status polls until StudyIndexer says completed or failed; no
request or relay round ever blocks on indexing. Delivery is at least once: a relay that dies
mid-call leaves its jobs claimed only until their lease ends. The relay owns its transactions
(like the request boundary), which is why it may commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from studyhub.core.config import Settings
from studyhub.core.db import Database, utcnow
from studyhub.core.errors import AppError
from studyhub.core.storage import FileStore
from studyhub.courses.models import IndexStatus
from studyhub.indexer.client import IndexerClient
from studyhub.indexer.exceptions import SearchTimeout, SearchUnavailable
from studyhub.outbox import subjects
from studyhub.outbox.models import OutboxKind, OutboxStatus
from studyhub.outbox.repository import Job, OutboxRepository

logger = logging.getLogger("studyhub.outbox")
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 300.0
POLL_SECONDS = 2.0


class _Unavailable(Exception):
    """StudyIndexer is down: stop this round, keep the job's attempt budget."""


@dataclass(slots=True)
class RoundResult:
    claimed: int = 0
    stopped_early: bool = False


class OutboxRelay:
    def __init__(
        self,
        database: Database,
        indexer: IndexerClient | None,
        files: FileStore,
        settings: Settings,
    ) -> None:
        self.database = database
        self.indexer = indexer
        self.files = files
        self.settings = settings
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    # -- lifecycle --

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.indexer is None or self.running:
            return
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name="outbox-relay")

    async def stop(self) -> None:
        """Stop after the current round (its jobs' outcomes are recorded, none is half-done)."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                result = await self.run_once()
            except Exception:
                # The database may be down; the loop must outlive it.
                logger.exception("outbox relay round failed")
                result = RoundResult()
            if result.claimed >= self.settings.outbox_batch_size and not result.stopped_early:
                continue  # more may be due right now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.settings.outbox_poll_seconds)

    # -- one round --

    async def run_once(self, now: datetime | None = None) -> RoundResult:
        """Process the jobs due at `now` (default: the current time) and return.

        Tests call this directly instead of waiting for the background loop; passing a later
        `now` makes backed-off jobs and status polls due without sleeping."""
        result = RoundResult()
        if self.indexer is None:
            return result  # not configured: jobs stay pending, nothing is lost
        if self.indexer.breaker.is_open:
            result.stopped_early = True
            return result
        now = now or utcnow()
        async with self.database.session() as session, session.begin():
            jobs = await OutboxRepository(session).claim_due(
                now,
                self.settings.outbox_batch_size,
                timedelta(seconds=self.settings.outbox_lease_seconds),
            )
        result.claimed = len(jobs)
        for index, job in enumerate(jobs):
            try:
                await self._process(self.indexer, job, now)
            except _Unavailable:
                # Give the untouched jobs back at once; the next round retries them.
                await self._release([j.id for j in jobs[index + 1 :]], now)
                result.stopped_early = True
                break
        return result

    async def _process(self, indexer: IndexerClient, job: Job, now: datetime) -> None:
        try:
            if job.kind is OutboxKind.DELETE:
                await self._delete(indexer, job)
            elif job.status is OutboxStatus.PENDING:
                await self._upload(indexer, job, now)
            else:
                await self._poll(indexer, job, now)
        except (SearchUnavailable, SearchTimeout) as exc:
            # Down or slow: retry later without spending the job's attempts, so an outage of any
            # length loses nothing. The relay stops hammering it for this round.
            await self._reschedule(job, now, exc, count_attempt=False)
            raise _Unavailable from exc
        except AppError as exc:
            await self._reschedule(job, now, exc, count_attempt=True)

    async def _upload(self, indexer: IndexerClient, job: Job, now: datetime) -> None:
        async with self.database.session(write=False) as session:
            upload = await subjects.current_upload(
                session, self.files, job.subject_type, job.subject_id, job.payload
            )
        if upload is None:
            await self._finish(job.id, OutboxStatus.DELIVERED, "superseded: nothing to index")
            return
        accepted = await indexer.upload(upload)
        async with self.database.session() as session, session.begin():
            current = await subjects.record_uploaded(
                session,
                job.subject_type,
                job.subject_id,
                job.payload.get("revision"),
                accepted.document_id,
            )
            outbox = OutboxRepository(session)
            if not current:
                # Changed or deleted while we uploaded: that document must not linger.
                outbox.enqueue_delete(job.subject_type, job.subject_id, accepted.document_id)
                await outbox.update(
                    job.id,
                    status=OutboxStatus.DELIVERED,
                    document_id=accepted.document_id,
                    last_error="superseded during upload; its document is deleted",
                )
                return
            await outbox.update(
                job.id,
                status=OutboxStatus.PROCESSING,
                document_id=accepted.document_id,
                next_attempt_at=now + timedelta(seconds=POLL_SECONDS),
                last_error=None,
            )

    async def _poll(self, indexer: IndexerClient, job: Job, now: datetime) -> None:
        document_id = job.document_id
        info = await indexer.document(document_id) if document_id else None
        if info is None:
            # StudyIndexer lost it (or we never had an id): upload again.
            await self._reschedule(
                job, now, "document unknown to StudyIndexer", count_attempt=True, reupload=True
            )
            return
        if info.status in {"pending", "processing"}:
            async with self.database.session() as session, session.begin():
                await OutboxRepository(session).update(
                    job.id, next_attempt_at=now + timedelta(seconds=POLL_SECONDS)
                )
            return
        done = info.status == "completed"
        async with self.database.session() as session, session.begin():
            await subjects.record_status(
                session,
                job.subject_type,
                job.subject_id,
                document_id,
                IndexStatus.COMPLETED if done else IndexStatus.FAILED,
            )
            await OutboxRepository(session).update(
                job.id,
                status=OutboxStatus.DELIVERED if done else OutboxStatus.FAILED,
                last_error=None if done else "StudyIndexer could not process the document",
            )

    async def _delete(self, indexer: IndexerClient, job: Job) -> None:
        document_id = job.document_id or str(job.payload.get("document_id") or "")
        if document_id:
            await indexer.delete(document_id)  # already gone counts as done
        await self._finish(job.id, OutboxStatus.DELIVERED, None)

    # -- bookkeeping --

    async def _finish(self, job_id: int, status: OutboxStatus, note: str | None) -> None:
        async with self.database.session() as session, session.begin():
            await OutboxRepository(session).update(job_id, status=status, last_error=note)

    async def _release(self, job_ids: list[int], now: datetime) -> None:
        if not job_ids:
            return
        async with self.database.session() as session, session.begin():
            outbox = OutboxRepository(session)
            for job_id in job_ids:
                await outbox.update(job_id, next_attempt_at=now)

    async def _reschedule(
        self,
        job: Job,
        now: datetime,
        error: AppError | str,
        *,
        count_attempt: bool,
        reupload: bool = False,
    ) -> None:
        attempts = job.attempts + 1 if count_attempt else job.attempts
        message = error if isinstance(error, str) else f"{error.code}: {error.message}"
        values: dict[str, object] = {"attempts": attempts, "last_error": message[:1000]}
        if reupload:
            values.update(status=OutboxStatus.PENDING, document_id=None)
        if count_attempt and attempts >= self.settings.outbox_max_attempts:
            values["status"] = OutboxStatus.DEAD
            logger.error("outbox job %s dead after %s attempts: %s", job.id, attempts, message)
        else:
            values["next_attempt_at"] = now + timedelta(seconds=backoff_seconds(attempts))
        async with self.database.session() as session, session.begin():
            if values.get("status") is OutboxStatus.DEAD and job.kind is OutboxKind.INDEX:
                await subjects.record_status(
                    session, job.subject_type, job.subject_id, None, IndexStatus.FAILED
                )
            await OutboxRepository(session).update(job.id, **values)


def backoff_seconds(attempts: int) -> float:
    """Exponential, capped, with jitter (jobs failing together do not retry together)."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** min(attempts, 16))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not security)
