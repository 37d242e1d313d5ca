"""data-contract rules stored with each stream

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Streams registered before have no rules; the server default fills them, then goes: the hub
    # always writes the column.
    with op.batch_alter_table("streams") as batch:
        batch.add_column(sa.Column("data_rules", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("streams") as batch:
        batch.alter_column("data_rules", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("streams") as batch:
        batch.drop_column("data_rules")
