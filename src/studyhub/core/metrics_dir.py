"""The multiprocess metrics directory, kept apart from `core.metrics`.

prometheus_client opens its per-process files in `PROMETHEUS_MULTIPROC_DIR` as soon as a metric is
defined, i.e. when `core.metrics` is imported. `studyhub serve` must therefore create (and empty)
the directory before anything imports that module: a directory that did not exist yet (the
container's `/tmp/studyhub-metrics`) made `serve` crash with FileNotFoundError.
"""

from __future__ import annotations

import os

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_dir() -> None:
    """Create and empty `PROMETHEUS_MULTIPROC_DIR` before workers start (stale files of a
    previous run would otherwise be counted again)."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))
