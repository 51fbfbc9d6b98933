"""Run Alembic from code (`studyhub init-db`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config


def _project_root() -> Path:
    # Source checkout (src/studyhub/core/migrations.py -> repo root), else the working directory
    # (the container's WORKDIR holds alembic.ini and alembic/).
    here = Path(__file__).resolve().parents[3]
    for root in (here, Path.cwd()):
        if (root / "alembic.ini").is_file() and (root / "alembic").is_dir():
            return root
    raise FileNotFoundError("alembic.ini not found next to the source tree or in the working dir")


def alembic_config(database_url: str | None = None) -> Config:
    root = _project_root()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "alembic"))
    if database_url:
        # Consumed by alembic/env.py; takes precedence over DATABASE_URL.
        config.attributes["database_url"] = database_url
    return config


def upgrade_head(database_url: str | None = None) -> None:
    command.upgrade(alembic_config(database_url), "head")
