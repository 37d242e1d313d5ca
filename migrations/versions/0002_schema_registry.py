"""schema registry: schemas with global ids, subject versions, settings, subject grants

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schemas",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("schema_type", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_schemas"),
        sa.UniqueConstraint("fingerprint", name="uq_schemas_fingerprint"),
    )
    op.create_table(
        "subject_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("schema_id", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["schema_id"], ["schemas.id"], name="fk_subject_versions_schema_id_schemas"),
        sa.PrimaryKeyConstraint("id", name="pk_subject_versions"),
        sa.UniqueConstraint("subject", "version", name="uq_subject_versions_subject_version"),
    )
    op.create_index("ix_subject_versions_subject", "subject_versions", ["subject"])
    op.create_index("ix_subject_versions_schema_id", "subject_versions", ["schema_id"])
    op.create_table(
        "registry_settings",
        sa.Column("scope", sa.String(255), nullable=False),
        sa.Column("compatibility", sa.String(32), nullable=True),
        sa.Column("mode", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("scope", name="pk_registry_settings"),
    )
    op.create_table(
        "subject_grants",
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("identity_name", sa.String(63), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["identity_name"], ["identities.name"], name="fk_subject_grants_identity_name_identities"
        ),
        sa.PrimaryKeyConstraint("subject", "identity_name", name="pk_subject_grants"),
    )


def downgrade() -> None:
    op.drop_table("subject_grants")
    op.drop_table("registry_settings")
    op.drop_index("ix_subject_versions_schema_id", table_name="subject_versions")
    op.drop_index("ix_subject_versions_subject", table_name="subject_versions")
    op.drop_table("subject_versions")
    op.drop_table("schemas")
