"""The pure merge rules: order-independent, idempotent, and the completion rules."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from functools import reduce

from hypothesis import given, settings
from hypothesis import strategies as st

from studyhub.progress.merge import (
    EMPTY,
    Event,
    EventType,
    ItemState,
    combine,
    fold,
    fold_event,
    manual_completion,
    merge,
    settle,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DURATION = 600


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


events_strategy = st.lists(
    st.builds(
        Event,
        event_id=st.text(alphabet="abc123", min_size=1, max_size=3),
        type=st.sampled_from(list(EventType)),
        occurred_at=st.integers(0, 50).map(at),  # few distinct times: many ties
        position_seconds=st.none() | st.integers(0, 800),
        active_seconds=st.none() | st.integers(0, 1000),
    ),
    max_size=25,
    unique_by=lambda e: e.event_id,
)


@settings(max_examples=150)
@given(events_strategy, st.randoms(use_true_random=False), st.integers(1, 5))
def test_shuffled_and_duplicated_events_give_the_same_result(
    events: list[Event], rnd: random.Random, copies: int
) -> None:
    expected = merge(events, DURATION)
    replayed = events * copies
    rnd.shuffle(replayed)
    assert merge(replayed, DURATION) == expected


@settings(max_examples=150)
@given(events_strategy, st.randoms(use_true_random=False))
def test_any_split_into_batches_gives_the_same_result(
    events: list[Event], rnd: random.Random
) -> None:
    """What the service does: fold each batch, combine into the stored fold, recompute manual
    completion from every manual event seen so far."""
    shuffled = list(events)
    rnd.shuffle(shuffled)
    stored, seen = EMPTY, []
    while shuffled:
        size = rnd.randint(1, len(shuffled))
        batch, shuffled = shuffled[:size], shuffled[size:]
        stored = combine(stored, fold(batch, DURATION))
        seen.extend(batch)
    manual = manual_completion(seen)
    assert settle(stored, manual) == merge(events, DURATION).outcome


@given(events_strategy, st.integers(0, 25), st.integers(0, 25))
def test_combine_is_commutative_and_associative(events: list[Event], i: int, j: int) -> None:
    """Over the folds of three batches of one set of events. An event id names one event (a
    replayed id is dropped before folding), so two folds never hold the same (time, id) with
    different positions: independent lists did, and made this test fail for some seeds."""
    i, j = sorted((i, j))
    a, b, c = events[:i], events[i:j], events[j:]
    fa, fb, fc = fold(a, DURATION), fold(b, DURATION), fold(c, DURATION)
    assert combine(fa, fb) == combine(fb, fa)
    assert combine(combine(fa, fb), fc) == combine(fa, combine(fb, fc))
    assert combine(fa, EMPTY) == fa


@settings(max_examples=300)
@given(
    st.lists(events_strategy, max_size=3).map(lambda lists: [e for part in lists for e in part]),
    st.sampled_from([None, 0, 1, 50, DURATION]),
)
def test_fold_is_combine_over_the_events(events: list[Event], duration: int | None) -> None:
    """`fold` is an optimised one-pass form of folding with `combine` (the SQL mirror), for any
    duration (none, positions past the end) and with repeated ids (equal keys: the first wins)."""
    expected = reduce(combine, (fold_event(e, duration) for e in events), EMPTY)
    assert fold(events, duration) == expected


def test_fold_keeps_the_first_of_events_with_equal_keys() -> None:
    """Equal (time, id) keys only arise from a replayed id; `combine` keeps the first fold."""
    events = [
        Event("a", EventType.POSITION, at(10), position_seconds=100),
        Event("a", EventType.POSITION, at(10), position_seconds=300),
    ]
    for ordered in (events, events[::-1]):
        expected = reduce(combine, (fold_event(e, DURATION) for e in ordered), EMPTY)
        assert fold(ordered, DURATION) == expected
        assert expected.position_seconds == ordered[0].position_seconds


def test_position_is_that_of_the_latest_event_tie_broken_by_the_larger_id() -> None:
    events = [
        Event("b", EventType.POSITION, at(10), position_seconds=100),
        Event("a", EventType.POSITION, at(10), position_seconds=300),
        Event("z", EventType.POSITION, at(5), position_seconds=400),
    ]
    result = merge(events, DURATION).fold
    assert result.position_seconds == 100  # (10, "b") > (10, "a")
    assert result.furthest_position_seconds == 400


def test_watching_ninety_percent_completes_at_the_earliest_such_event() -> None:
    events = [
        Event("1", EventType.POSITION, at(30), position_seconds=590),
        Event("2", EventType.POSITION, at(20), position_seconds=540),  # exactly 90 %
        Event("3", EventType.POSITION, at(10), position_seconds=539),
    ]
    outcome = merge(events, DURATION).outcome
    assert outcome.state is ItemState.COMPLETED
    assert outcome.completed_at == at(20)


def test_position_is_clamped_to_the_duration() -> None:
    folded = fold_event(Event("1", EventType.POSITION, at(0), position_seconds=9999), DURATION)
    assert folded.position_seconds == DURATION


def test_no_duration_no_watched_completion() -> None:
    outcome = merge([Event("1", EventType.POSITION, at(0), position_seconds=10**5)], None)
    assert outcome.outcome.state is ItemState.IN_PROGRESS


def test_latest_manual_event_decides_and_completion_time_follows_the_last_uncomplete() -> None:
    complete_early = Event("c1", EventType.COMPLETE, at(1))
    undo = Event("u1", EventType.UNCOMPLETE, at(5))
    complete_again = Event("c2", EventType.COMPLETE, at(8))
    complete_later = Event("c3", EventType.COMPLETE, at(12))
    assert manual_completion([complete_early]) == at(1)
    assert manual_completion([complete_early, undo]) is None
    assert manual_completion([complete_later, undo, complete_early, complete_again]) == at(8)


def test_uncomplete_never_undoes_a_watched_completion() -> None:
    events = [
        Event("w", EventType.POSITION, at(10), position_seconds=600),
        Event("c", EventType.COMPLETE, at(5)),
        Event("u", EventType.UNCOMPLETE, at(20)),
    ]
    outcome = merge(events, DURATION).outcome
    assert outcome.state is ItemState.COMPLETED
    assert outcome.completed_at == at(10)


def test_completed_at_is_the_earliest_active_source() -> None:
    events = [
        Event("w", EventType.POSITION, at(10), position_seconds=600),
        Event("c", EventType.COMPLETE, at(5)),
    ]
    assert merge(events, DURATION).outcome.completed_at == at(5)


def test_active_seconds_are_capped_per_event_and_by_the_span() -> None:
    one = merge([Event("1", EventType.HEARTBEAT, at(0), active_seconds=5000)], DURATION)
    assert one.fold.active_seconds_raw == 300
    assert one.outcome.active_seconds == 300
    # Ten heartbeats claiming 300 s each within 60 s: at most 60 + 300 seconds count.
    many = [Event(str(i), EventType.HEARTBEAT, at(i * 6), active_seconds=300) for i in range(11)]
    assert merge(many, DURATION).outcome.active_seconds == 60 + 300


def test_a_replayed_event_id_changes_nothing() -> None:
    first = Event("same", EventType.COMPLETE, at(3))
    replay = Event("same", EventType.UNCOMPLETE, at(9))
    assert merge([first, replay], DURATION) == merge([first], DURATION)
