"""The course outline (weeks with their items) as JSON, serialised once per course version.

A student's outline differs from anyone else's only in each item's `completed` flag. The cached
outline is kept split at those flags, so a student's copy is a join of cached bytes rather than
a copy and re-serialisation of every item: this is most of the work of `GET /courses/{id}`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from pydantic import TypeAdapter

from studyhub.courses.schemas import WeekOut

_weeks = TypeAdapter(list[WeekOut])
# The serialised form of a flag that is not set. It cannot occur inside a JSON string (its quotes
# would be escaped there), so every occurrence is an item's own `completed` field.
_UNSET = b'"completed":null'
_DONE = b'"completed":true'
_NOT_DONE = b'"completed":false'

Item = tuple[str, int]  # ("lecture" | "assignment", id)


@dataclass(frozen=True, slots=True)
class RenderedOutline:
    plain: bytes  # every `completed` null: what staff and visitors see
    items: tuple[Item, ...]  # the item of each flag, in document order
    pieces: tuple[bytes, ...]  # `plain` split at the flags: one more than `items`

    @classmethod
    def of(cls, weeks: list[WeekOut]) -> RenderedOutline:
        plain = _weeks.dump_json(weeks)
        items = tuple(
            item
            for week in weeks  # the order WeekOut serialises its fields in
            for item in [
                *(("lecture", lecture.id) for lecture in week.lectures),
                *(("assignment", task.id) for task in week.assignments),
            ]
        )
        pieces = tuple(plain.split(_UNSET))
        if len(pieces) != len(items) + 1:
            raise ValueError("every item must serialise exactly one unset `completed` flag")
        return cls(plain, items, pieces)

    @classmethod
    def from_json(cls, raw: bytes) -> RenderedOutline:
        return cls.of(_weeks.validate_json(raw))

    def for_student(self, done: Collection[Item]) -> bytes:
        parts = [self.pieces[0]]
        for item, piece in zip(self.items, self.pieces[1:], strict=True):
            parts.append(_DONE if item in done else _NOT_DONE)
            parts.append(piece)
        return b"".join(parts)
