"""progress events: the (user, lecture) index becomes partial, over manual events only

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 01:00:00

Only complete/uncomplete events are read back by lecture; every other event (nearly all of
them) no longer maintains the index on insert.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out (not imported from the models): the same text as `progress.models.MANUAL_EVENT`.
MANUAL_EVENT = "type IN ('complete', 'uncomplete')"


def upgrade() -> None:
    with op.batch_alter_table("progress_events", schema=None) as batch_op:
        batch_op.drop_index("ix_progress_events_user_id_lecture_id")
        batch_op.create_index(
            "ix_progress_events_manual",
            ["user_id", "lecture_id"],
            unique=False,
            sqlite_where=sa.text(MANUAL_EVENT),
            postgresql_where=sa.text(MANUAL_EVENT),
        )


def downgrade() -> None:
    with op.batch_alter_table("progress_events", schema=None) as batch_op:
        batch_op.drop_index("ix_progress_events_manual")
        batch_op.create_index(
            "ix_progress_events_user_id_lecture_id", ["user_id", "lecture_id"], unique=False
        )
