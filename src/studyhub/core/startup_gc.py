"""The garbage collector paused while `studyhub serve` builds the app (startup time).

Importing the app and building its routes allocates a few hundred thousand objects that live as
long as the process, and little garbage; the collector still ran ~340 times over them, ~0.15 s of a
~1.5 s start. `serve` pauses collection before uvicorn imports the app and `create_app` resumes it
once the app is built, after moving everything allocated so far to the permanent generation
(`gc.freeze`), so that later full collections do not walk it again either. The price: the little
cyclic garbage made while starting (under 1 MB) is never freed.

Only `serve` with one in-process worker pauses: with --workers or --reload uvicorn imports the app
in child processes, and the supervisor must keep collecting.
"""

from __future__ import annotations

import gc

_paused = False


def pause_collection() -> None:
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_collection() -> None:
    """Undo `pause_collection` (a no-op when it did not pause, e.g. in tests or other commands)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
