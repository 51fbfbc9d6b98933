"""`LocalCache`: a bounded, per-process map of ready-to-use objects for hot reads.

It sits in front of the shared `Cache` and the database for data whose keys carry version stamps
(`core.versions`): a change elsewhere makes the old key unreachable rather than needing this
process to hear about it. The time-to-live only bounds how long an entry can outlive a stamp that
was lost (a cache outage during a bump), and the size bound keeps memory flat.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LocalCache(Generic[V]):
    def __init__(self, max_entries: int, ttl_seconds: float) -> None:
        self._entries: OrderedDict[Hashable, tuple[V, float]] = OrderedDict()
        self._max = max_entries
        self._ttl = ttl_seconds

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: Hashable, value: V) -> None:
        if self._ttl <= 0:
            return
        self._entries[key] = (value, time.monotonic() + self._ttl)
        self._entries.move_to_end(key)
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
