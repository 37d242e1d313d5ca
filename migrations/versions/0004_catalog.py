"""catalog: domains, streams with their fields and tags, access grants, jobs and their streams (lineage)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "domains",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("owning_team", sa.String(length=255), nullable=False),
        sa.Column("contact", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=63), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_domains"),
    )
    op.create_table(
        "jobs",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("owner_identity", sa.String(length=63), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_identity"], ["identities.name"], name="fk_jobs_owner_identity_identities"),
        sa.PrimaryKeyConstraint("name", name="pk_jobs"),
    )
    op.create_index("ix_jobs_owner_identity", "jobs", ["owner_identity"])
    op.create_table(
        "streams",
        sa.Column("name", sa.String(length=249), nullable=False),
        sa.Column("domain", sa.String(length=63), nullable=False),
        sa.Column("entity", sa.String(length=249), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_identity", sa.String(length=63), nullable=False),
        sa.Column("owner_team", sa.String(length=255), nullable=False),
        sa.Column("contact", sa.String(length=255), nullable=False),
        sa.Column("partitions", sa.Integer(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("is_source", sa.Boolean(), nullable=False),
        sa.Column("has_pii", sa.Boolean(), nullable=False),
        sa.Column("compatibility", sa.String(length=32), nullable=False),
        sa.Column("topic_config", sa.JSON(), nullable=False),
        sa.Column("key_subject", sa.String(length=255), nullable=False),
        sa.Column("value_subject", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.String(length=63), nullable=False),
        sa.Column("registration_steps", sa.JSON(), nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deprecated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sunset_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deprecation_message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["domain"], ["domains.name"], name="fk_streams_domain_domains"),
        sa.PrimaryKeyConstraint("name", name="pk_streams"),
    )
    op.create_index("ix_streams_created_at", "streams", ["created_at"])
    op.create_index("ix_streams_domain", "streams", ["domain"])
    op.create_index("ix_streams_owner_identity", "streams", ["owner_identity"])
    op.create_index("ix_streams_state", "streams", ["state"])
    op.create_table(
        "access_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=249), nullable=False),
        sa.Column("consumer_identity", sa.String(length=63), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=63), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consumer_identity"],
            ["identities.name"],
            name="fk_access_grants_consumer_identity_identities",
        ),
        sa.ForeignKeyConstraint(["stream"], ["streams.name"], name="fk_access_grants_stream_streams"),
        sa.PrimaryKeyConstraint("id", name="pk_access_grants"),
    )
    op.create_index("ix_access_grants_consumer_identity", "access_grants", ["consumer_identity"])
    op.create_index("ix_access_grants_state", "access_grants", ["state"])
    op.create_index("ix_access_grants_stream", "access_grants", ["stream"])
    op.create_table(
        "job_streams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=255), nullable=False),
        sa.Column("stream", sa.String(length=249), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(["job"], ["jobs.name"], name="fk_job_streams_job_jobs", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["stream"], ["streams.name"], name="fk_job_streams_stream_streams"),
        sa.PrimaryKeyConstraint("id", name="pk_job_streams"),
        sa.UniqueConstraint("job", "stream", "direction", name="uq_job_streams_job"),
    )
    op.create_index("ix_job_streams_job", "job_streams", ["job"])
    op.create_index("ix_job_streams_stream", "job_streams", ["stream"])
    op.create_table(
        "stream_fields",
        sa.Column("stream", sa.String(length=249), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("search_name", sa.String(length=255), nullable=False),
        sa.Column("search_path", sa.String(length=1024), nullable=False),
        sa.ForeignKeyConstraint(
            ["stream"],
            ["streams.name"],
            name="fk_stream_fields_stream_streams",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("stream", "role", "path", name="pk_stream_fields"),
    )
    op.create_index("ix_stream_fields_search_name", "stream_fields", ["search_name"])
    op.create_index("ix_stream_fields_search_path", "stream_fields", ["search_path"])
    op.create_table(
        "stream_tags",
        sa.Column("stream", sa.String(length=249), nullable=False),
        sa.Column("tag", sa.String(length=63), nullable=False),
        sa.ForeignKeyConstraint(["stream"], ["streams.name"], name="fk_stream_tags_stream_streams", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("stream", "tag", name="pk_stream_tags"),
    )
    op.create_index("ix_stream_tags_tag", "stream_tags", ["tag"])


def downgrade() -> None:

    op.drop_index("ix_stream_tags_tag", table_name="stream_tags")
    op.drop_table("stream_tags")
    op.drop_index("ix_stream_fields_search_path", table_name="stream_fields")
    op.drop_index("ix_stream_fields_search_name", table_name="stream_fields")
    op.drop_table("stream_fields")
    op.drop_index("ix_job_streams_stream", table_name="job_streams")
    op.drop_index("ix_job_streams_job", table_name="job_streams")
    op.drop_table("job_streams")
    op.drop_index("ix_access_grants_stream", table_name="access_grants")
    op.drop_index("ix_access_grants_state", table_name="access_grants")
    op.drop_index("ix_access_grants_consumer_identity", table_name="access_grants")
    op.drop_table("access_grants")
    for column in ("state", "owner_identity", "domain", "created_at"):
        op.drop_index(f"ix_streams_{column}", table_name="streams")
    op.drop_table("streams")
    op.drop_index("ix_jobs_owner_identity", table_name="jobs")
    op.drop_table("jobs")
    op.drop_table("domains")
