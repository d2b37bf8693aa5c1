"""pending imports: KPI files sent in Slack between preview and click; a weekly report's attachment

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_imports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("file_id", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("preset", sa.String(length=20), nullable=False),
        sa.Column("slack_channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("claimed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("finished_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_pending_imports_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_imports")),
        sa.UniqueConstraint("workspace_id", "file_id", name="uq_pending_imports_workspace_file"),
    )
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attach", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_column("attach")
    op.drop_table("pending_imports")
