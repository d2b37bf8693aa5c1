"""post languages: the language of the bot's channel posts, per workspace and per channel

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "post_languages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("slack_channel_id", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("set_by", sa.String(length=32), nullable=True),
        sa.Column("set_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_post_languages_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_languages")),
        sa.UniqueConstraint("workspace_id", "slack_channel_id", name=op.f("uq_post_languages_workspace_id")),
    )
    with op.batch_alter_table("post_languages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_languages_workspace_id"), ["workspace_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("post_languages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_languages_workspace_id"))
    op.drop_table("post_languages")
