"""progress rollups: per (course, student) aggregates maintained for the staff views

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rollups of existing progress: the same aggregate as `studyhub.progress.rollups`, written
# out here because a migration must not change meaning when the application code does.
BACKFILL = """
INSERT INTO progress_rollups (course_id, user_id, completed_items, last_activity_at, active_seconds)
SELECT s.course_id, s.user_id,
       count(CASE WHEN s.completed_at IS NOT NULL AND i.item_id IS NOT NULL THEN 1 END),
       max(s.last_activity_at), coalesce(sum(s.active_seconds), 0)
FROM (
    SELECT user_id, course_id, 'lecture' AS item_type, lecture_id AS item_id, completed_at,
           last_viewed_at AS last_activity_at, active_seconds
    FROM lecture_progress
    UNION ALL
    SELECT sub.user_id, a.course_id, 'assignment', sub.assignment_id, min(sub.submitted_at),
           max(sub.submitted_at), 0
    FROM submissions sub JOIN assignments a ON a.id = sub.assignment_id
    GROUP BY sub.user_id, a.course_id, sub.assignment_id
) s
LEFT JOIN (
    SELECT 'lecture' AS item_type, l.id AS item_id
    FROM lectures l JOIN weeks w ON w.id = l.week_id
    WHERE l.is_published AND w.is_published
    UNION ALL
    SELECT 'assignment', a.id
    FROM assignments a JOIN weeks w ON w.id = a.week_id
    WHERE a.is_published AND w.is_published
) i ON i.item_type = s.item_type AND i.item_id = s.item_id
GROUP BY s.course_id, s.user_id
"""


def upgrade() -> None:
    op.create_table(
        "progress_rollups",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("completed_items", sa.Integer(), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active_seconds", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_progress_rollups_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_progress_rollups_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", "user_id", name=op.f("pk_progress_rollups")),
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table("progress_rollups")
