"""Startup time: building the app must not import what only some configurations, commands or
requests use; each cost `studyhub serve` tens of milliseconds to ready. See the lazy imports in
core/cache.py, core/ratelimit.py, core/security.py and core/passwords.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

NOT_AT_STARTUP = {
    "alembic",  # init-db only
    "redis",  # only with REDIS_URL
    # (sqlalchemy.dialects.postgresql is loaded by the models: a partial index names its
    # PostgreSQL predicate with `postgresql_where`, which SQLAlchemy validates at definition.)
    "jose",  # first token issued or decoded
    "passlib",  # first password hashed or checked
}

SCRIPT = """
import json, sys
import studyhub.cli
from studyhub.app import create_app
create_app()
print(json.dumps(sorted(sys.modules)))
"""


def test_building_the_app_on_sqlite_without_redis_imports_none_of_them(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "LOG_DIR": "",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    env.pop("REDIS_URL", None)
    output = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    imported = set(json.loads(output.splitlines()[-1]))
    assert NOT_AT_STARTUP.isdisjoint(imported), sorted(NOT_AT_STARTUP & imported)
