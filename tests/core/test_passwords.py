"""Hashing runs off the event loop, on threads that yield the CPU to it (DESIGN.md §9: the loop
stays responsive during logins)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest

from studyhub.core.passwords import HASHING_NICENESS, PasswordHasher


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread niceness is Linux behaviour")
async def test_hashing_threads_run_below_the_event_loops_priority() -> None:
    hasher = PasswordHasher(fast=True)
    try:
        assert await hasher.verify("a password", await hasher.hash("a password")) == (True, None)

        def priority() -> tuple[int, int]:
            return threading.get_native_id(), os.getpriority(
                os.PRIO_PROCESS, threading.get_native_id()
            )

        loop = asyncio.get_running_loop()
        worker, nice = await loop.run_in_executor(hasher._executor, priority)
        assert worker != threading.get_native_id()
        assert nice >= HASHING_NICENESS
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < HASHING_NICENESS
    finally:
        hasher.close()
