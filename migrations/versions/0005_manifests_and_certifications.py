"""backfill manifests and stream certifications

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stream_manifests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=249), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=63), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("keys", sa.Integer(), nullable=False),
        sa.Column("key_digest", sa.String(length=32), nullable=False),
        sa.Column("entry_digest", sa.String(length=32), nullable=False),
        sa.Column("partitions", sa.JSON(), nullable=False),
        sa.Column("schema_ids", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("entries", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["stream"], ["streams.name"], name="fk_stream_manifests_stream_streams"),
        sa.PrimaryKeyConstraint("id", name="pk_stream_manifests"),
    )
    op.create_index("ix_stream_manifests_stream", "stream_manifests", ["stream"])
    op.create_table(
        "stream_certifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=249), nullable=False),
        sa.Column("manifest_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=63), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("scanned_offsets", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["manifest_id"], ["stream_manifests.id"], name="fk_stream_certifications_manifest_id_stream_manifests"
        ),
        sa.ForeignKeyConstraint(["stream"], ["streams.name"], name="fk_stream_certifications_stream_streams"),
        sa.PrimaryKeyConstraint("id", name="pk_stream_certifications"),
    )
    op.create_index("ix_stream_certifications_stream", "stream_certifications", ["stream"])


def downgrade() -> None:
    op.drop_index("ix_stream_certifications_stream", table_name="stream_certifications")
    op.drop_table("stream_certifications")
    op.drop_index("ix_stream_manifests_stream", table_name="stream_manifests")
    op.drop_table("stream_manifests")
