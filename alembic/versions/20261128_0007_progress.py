"""progress

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 19:51:17.751290
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"  # other branches add 0005/0006; the integrator re-chains
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "progress_activity_days",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_progress_activity_days_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "day", name=op.f("pk_progress_activity_days")),
    )
    op.create_table(
        "course_completions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_course_completions_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_course_completions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "course_id", name=op.f("pk_course_completions")),
    )
    op.create_table(
        "lecture_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("lecture_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "not_started",
                "in_progress",
                "completed",
                name="itemstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("first_viewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_viewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("position_seconds", sa.Integer(), nullable=True),
        sa.Column("position_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("position_event_id", sa.String(length=64), nullable=True),
        sa.Column("furthest_position_seconds", sa.Integer(), nullable=False),
        sa.Column("active_seconds_raw", sa.Integer(), nullable=False),
        sa.Column("watched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("manual_completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active_seconds", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_lecture_progress_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lecture_id"],
            ["lectures.id"],
            name=op.f("fk_lecture_progress_lecture_id_lectures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_lecture_progress_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lecture_progress")),
        sa.UniqueConstraint(
            "user_id", "lecture_id", name=op.f("uq_lecture_progress_user_id_lecture_id")
        ),
    )
    with op.batch_alter_table("lecture_progress", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lecture_progress_course_id_user_id",
            [
                "course_id",
                "user_id",
                "lecture_id",
                "completed_at",
                "last_viewed_at",
                "active_seconds",
            ],
            unique=False,
        )
        batch_op.create_index(
            "ix_lecture_progress_user_id_course_id", ["user_id", "course_id"], unique=False
        )

    op.create_table(
        "progress_events",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("lecture_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "view",
                "position",
                "heartbeat",
                "complete",
                "uncomplete",
                name="eventtype",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position_seconds", sa.Integer(), nullable=True),
        sa.Column("active_seconds", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_progress_events_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lecture_id"],
            ["lectures.id"],
            name=op.f("fk_progress_events_lecture_id_lectures"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_progress_events_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "event_id", name=op.f("pk_progress_events")),
    )
    with op.batch_alter_table("progress_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_progress_events_user_id_lecture_id", ["user_id", "lecture_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("progress_events", schema=None) as batch_op:
        batch_op.drop_index("ix_progress_events_user_id_lecture_id")

    op.drop_table("progress_events")
    with op.batch_alter_table("lecture_progress", schema=None) as batch_op:
        batch_op.drop_index("ix_lecture_progress_user_id_course_id")
        batch_op.drop_index("ix_lecture_progress_course_id_user_id")

    op.drop_table("lecture_progress")
    op.drop_table("course_completions")
    op.drop_table("progress_activity_days")
