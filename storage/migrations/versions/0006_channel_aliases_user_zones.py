"""channel aliases (京东 = JD, per workspace) and each person's Slack time zone for their reminders

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_aliases",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("alias", sa.String(length=100), nullable=False),
        sa.Column("alias_key", sa.String(length=100), nullable=False),
        sa.Column("channel_key", sa.String(length=100), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_channel_aliases_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_aliases")),
        sa.UniqueConstraint("workspace_id", "alias_key", name="uq_channel_aliases_workspace_alias"),
    )
    op.create_table(
        "user_zones",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=True),
        sa.Column("checked_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_user_zones_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("workspace_id", "user_id", name=op.f("pk_user_zones")),
    )


def downgrade() -> None:
    op.drop_table("user_zones")
    op.drop_table("channel_aliases")
