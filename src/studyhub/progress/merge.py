"""The lecture-progress merge rules, pure (no I/O), so they can be tested exhaustively.

A lecture's progress is a function of the *set* of its events, never of their arrival order:

- `Fold` is the commutative, associative part (`combine(a, b) == combine(b, a)`, identity
  `EMPTY`): first/last viewed (min/max `occurred_at`), the position of the latest event
  (`occurred_at`, ties broken by the larger `event_id`), the furthest position (max), the sum of
  the per-event capped active seconds, and `watched_at` (the earliest event whose position
  reached 90 % of the lecture's duration). The database applies the same `combine` in one upsert
  (`repository.merge_folds`), so concurrent writers cannot lose each other's events.
- Manual completion depends on the order of complete/uncomplete events, so it is recomputed from
  the stored manual events (`manual_completion`): the latest manual event decides; the manual
  completion time is the earliest `complete` after the last `uncomplete`.
- `settle` derives what is shown: `completed_at` = the earliest active completion source
  (watched, manual), the lecture's state and its effective active seconds.

Duplicated event ids are the caller's concern (the applied-events table): an event id names one
event, and a replay changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

MAX_ACTIVE_SECONDS_PER_EVENT = 300
# A lecture's active time can never exceed the span between its first and last event plus one
# event's worth: a client cannot claim an hour of study from two events a minute apart.
ACTIVE_SLACK_SECONDS = MAX_ACTIVE_SECONDS_PER_EVENT
WATCHED_NUMERATOR, WATCHED_DENOMINATOR = 9, 10  # 90 % of duration_seconds


class EventType(StrEnum):
    VIEW = "view"
    POSITION = "position"
    HEARTBEAT = "heartbeat"
    COMPLETE = "complete"
    UNCOMPLETE = "uncomplete"


MANUAL_TYPES = frozenset({EventType.COMPLETE, EventType.UNCOMPLETE})


class ItemState(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class EventLike(Protocol):
    """What the fold reads of an event: an `Event`, or a validated `BatchEvent` as it is (a
    batch folds hundreds of events: no copy of each is made)."""

    @property
    def event_id(self) -> str: ...
    @property
    def type(self) -> EventType: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def position_seconds(self) -> int | None: ...
    @property
    def active_seconds(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Event:
    event_id: str
    type: EventType
    occurred_at: datetime
    position_seconds: int | None = None
    active_seconds: int | None = None

    @property
    def key(self) -> tuple[datetime, str]:
        """Total order of events: by time, ties broken by the larger event id."""
        return (self.occurred_at, self.event_id)


def _least(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _greatest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


@dataclass(frozen=True, slots=True)
class Fold:
    first_viewed_at: datetime | None = None
    last_viewed_at: datetime | None = None
    position_seconds: int | None = None
    position_at: datetime | None = None
    position_event_id: str | None = None
    furthest_position_seconds: int = 0
    active_seconds_raw: int = 0
    watched_at: datetime | None = None

    @property
    def position_key(self) -> tuple[datetime, str] | None:
        if self.position_at is None or self.position_event_id is None:
            return None
        return (self.position_at, self.position_event_id)


EMPTY = Fold()


def combine(a: Fold, b: Fold) -> Fold:
    """Merge two folds; commutative and associative (mirrored in SQL by the upsert)."""
    a_key, b_key = a.position_key, b.position_key
    latest = b if a_key is None or (b_key is not None and b_key > a_key) else a
    return Fold(
        first_viewed_at=_least(a.first_viewed_at, b.first_viewed_at),
        last_viewed_at=_greatest(a.last_viewed_at, b.last_viewed_at),
        position_seconds=latest.position_seconds,
        position_at=latest.position_at,
        position_event_id=latest.position_event_id,
        furthest_position_seconds=max(a.furthest_position_seconds, b.furthest_position_seconds),
        active_seconds_raw=a.active_seconds_raw + b.active_seconds_raw,
        watched_at=_least(a.watched_at, b.watched_at),
    )


def clamp_position(position: int, duration_seconds: int | None) -> int:
    position = max(0, position)
    return min(position, duration_seconds) if duration_seconds else position


def is_watched(position: int, duration_seconds: int | None) -> bool:
    if not duration_seconds or duration_seconds <= 0:
        return False
    return position * WATCHED_DENOMINATOR >= duration_seconds * WATCHED_NUMERATOR


def fold_event(event: EventLike, duration_seconds: int | None) -> Fold:
    """One event's contribution."""
    at = event.occurred_at
    active = 0
    if event.active_seconds is not None:
        active = min(max(0, event.active_seconds), MAX_ACTIVE_SECONDS_PER_EVENT)
    if event.position_seconds is None:
        return Fold(first_viewed_at=at, last_viewed_at=at, active_seconds_raw=active)
    position = clamp_position(event.position_seconds, duration_seconds)
    return Fold(
        first_viewed_at=at,
        last_viewed_at=at,
        position_seconds=position,
        position_at=at,
        position_event_id=event.event_id,
        furthest_position_seconds=position,
        active_seconds_raw=active,
        watched_at=at if is_watched(position, duration_seconds) else None,
    )


def fold(events: Iterable[EventLike], duration_seconds: int | None) -> Fold:
    """`reduce(combine, map(fold_event, events), EMPTY)` in one pass over the events, without a
    `Fold` per event (a batch of 500 events is folded per request). Ties resolve as `combine`
    does: the earlier of equal times or keys is kept."""
    first: datetime | None = None
    last: datetime | None = None
    latest: tuple[datetime, str] | None = None
    latest_position: int | None = None
    furthest = active = 0
    watched: datetime | None = None
    for event in events:
        at = event.occurred_at
        if first is None or at < first:
            first = at
        if last is None or at > last:
            last = at
        if event.active_seconds is not None:
            active += min(max(0, event.active_seconds), MAX_ACTIVE_SECONDS_PER_EVENT)
        if event.position_seconds is None:
            continue
        position = clamp_position(event.position_seconds, duration_seconds)
        furthest = max(furthest, position)
        key = (at, event.event_id)
        if latest is None or key > latest:
            latest, latest_position = key, position
        if is_watched(position, duration_seconds) and (watched is None or at < watched):
            watched = at
    if first is None:
        return EMPTY
    return Fold(
        first_viewed_at=first,
        last_viewed_at=last,
        position_seconds=latest_position,
        position_at=latest[0] if latest else None,
        position_event_id=latest[1] if latest else None,
        furthest_position_seconds=furthest,
        active_seconds_raw=active,
        watched_at=watched,
    )


def manual_completion(events: Iterable[Event]) -> datetime | None:
    """The active manual completion time, from every manual event of the lecture (any order)."""
    manual = [event for event in events if event.type in MANUAL_TYPES]
    if not manual:
        return None
    if max(manual, key=lambda e: e.key).type is EventType.UNCOMPLETE:
        return None
    undone = max((e.key for e in manual if e.type is EventType.UNCOMPLETE), default=None)
    return min(
        e.occurred_at
        for e in manual
        if e.type is EventType.COMPLETE and (undone is None or e.key > undone)
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    state: ItemState
    completed_at: datetime | None
    active_seconds: int


def settle(folded: Fold, manual_completed_at: datetime | None) -> Outcome:
    """What a lecture shows: a watched completion stays; only an uncomplete undoes a manual one."""
    completed_at = _least(folded.watched_at, manual_completed_at)
    active = folded.active_seconds_raw
    if folded.first_viewed_at is not None and folded.last_viewed_at is not None:
        span = int((folded.last_viewed_at - folded.first_viewed_at).total_seconds())
        active = min(active, span + ACTIVE_SLACK_SECONDS)
    if completed_at is not None:
        state = ItemState.COMPLETED
    elif folded.first_viewed_at is not None:
        state = ItemState.IN_PROGRESS
    else:
        state = ItemState.NOT_STARTED
    return Outcome(state, completed_at, active)


@dataclass(frozen=True, slots=True)
class Merged:
    fold: Fold
    manual_completed_at: datetime | None
    outcome: Outcome


def merge(events: Iterable[Event], duration_seconds: int | None) -> Merged:
    """The whole rule set over a set of events (the reference the service must agree with).
    Events with an id already seen are ignored."""
    unique: dict[str, Event] = {}
    for event in events:
        unique.setdefault(event.event_id, event)
    folded = fold(unique.values(), duration_seconds)
    manual = manual_completion(unique.values())
    return Merged(folded, manual, settle(folded, manual))
