"""schema ids from a counter row, so concurrent registrations wait for each other instead of colliding

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

Ids were max(id) + 1 with a few retries on a collision; under enough concurrency the retries ran out
and a registration failed (issue 14). The counter starts at the highest id given so far.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    counters = op.create_table(
        "registry_counters",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_registry_counters"),
    )
    highest = op.get_bind().scalar(sa.text("SELECT COALESCE(MAX(id), 0) FROM schemas"))
    op.bulk_insert(counters, [{"name": "schema_id", "value": highest}])


def downgrade() -> None:
    op.drop_table("registry_counters")
