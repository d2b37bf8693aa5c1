"""retro messages: each thread reply's last applied version and whether it was deleted

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retro_messages",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("retro_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("version_ts", sa.String(length=32), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["retro_id"], ["retros.id"], name=op.f("fk_retro_messages_retro_id_retros")),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_retro_messages_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retro_messages")),
        sa.UniqueConstraint("retro_id", "message_ts", name="uq_retro_messages_message"),
    )
    with op.batch_alter_table("retro_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retro_messages_retro_id"), ["retro_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("retro_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retro_messages_retro_id"))
    op.drop_table("retro_messages")
