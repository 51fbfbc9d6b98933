"""`studyhub serve` pauses the garbage collector while the app is built (core/startup_gc.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from studyhub.core.startup_gc import pause_collection, resume_collection


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    yield
    resume_collection()
    gc.enable()
    if gc.get_freeze_count() != frozen:
        gc.unfreeze()


def test_resume_freezes_what_was_built_and_collects_again() -> None:
    pause_collection()
    assert not gc.isenabled()
    resume_collection()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0


def test_resume_without_a_pause_changes_nothing() -> None:
    frozen = gc.get_freeze_count()
    resume_collection()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_a_collector_disabled_by_someone_else_stays_disabled() -> None:
    gc.disable()
    pause_collection()
    resume_collection()
    assert not gc.isenabled()
