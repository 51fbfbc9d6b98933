"""outbox and personal knowledge base

The outbox of StudyIndexer jobs, the personal knowledge base, and lectures' indexer document id.
Re-chain on merge: written against 0004 while another branch adds 0005.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 19:39:03.378608
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("index", "delete", name="outboxkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "subject_type",
            sa.Enum("lecture", "personal_item", name="subjecttype", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "processing",
                "delivered",
                "failed",
                "dead",
                name="outboxstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("document_id", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_events_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "personal_folders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_personal_folders_course_id_courses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_personal_folders_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["personal_folders.id"],
            name=op.f("fk_personal_folders_parent_id_personal_folders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_folders")),
    )
    with op.batch_alter_table("personal_folders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_personal_folders_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_personal_folders_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "personal_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("folder_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("note", "file", name="itemkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("file_media_type", sa.String(length=100), nullable=True),
        sa.Column("file_storage_name", sa.String(length=64), nullable=True),
        sa.Column(
            "index_status",
            sa.Enum(
                "not_indexed",
                "pending",
                "processing",
                "completed",
                "failed",
                name="indexstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("index_revision", sa.String(length=32), nullable=True),
        sa.Column("indexer_document_id", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["personal_folders.id"],
            name=op.f("fk_personal_items_folder_id_personal_folders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_personal_items_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_items")),
    )
    with op.batch_alter_table("personal_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_personal_items_folder_id"), ["folder_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_personal_items_indexer_document_id"),
            ["indexer_document_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_personal_items_owner_id"), ["owner_id"], unique=False)

    with op.batch_alter_table("lectures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("indexer_document_id", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_lectures_indexer_document_id"), ["indexer_document_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("lectures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lectures_indexer_document_id"))
        batch_op.drop_column("indexer_document_id")

    with op.batch_alter_table("personal_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_items_owner_id"))
        batch_op.drop_index(batch_op.f("ix_personal_items_indexer_document_id"))
        batch_op.drop_index(batch_op.f("ix_personal_items_folder_id"))

    op.drop_table("personal_items")
    with op.batch_alter_table("personal_folders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_folders_parent_id"))
        batch_op.drop_index(batch_op.f("ix_personal_folders_owner_id"))

    op.drop_table("personal_folders")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_events_status_next_attempt_at")

    op.drop_table("outbox_events")
