"""audit log (append-only) and policy waivers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPEND_ONLY_MESSAGE = "audit_log is append-only: entries cannot be changed or deleted"


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(63), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    for column in ("at", "actor", "action", "target"):
        op.create_index(f"ix_audit_log_{column}", "audit_log", [column])
    _refuse_changes_to_audit_log()
    op.create_table(
        "policy_waivers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(63), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(63), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(63), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_policy_waivers"),
    )
    op.create_index("ix_policy_waivers_rule_id", "policy_waivers", ["rule_id"])
    op.create_index("ix_policy_waivers_target", "policy_waivers", ["target"])


def _refuse_changes_to_audit_log() -> None:
    """The database itself refuses UPDATE and DELETE, so no code path (or hand-run SQL) rewrites history."""
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{_APPEND_ONLY_MESSAGE}'; END $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY_MESSAGE}'); END"
            )


def downgrade() -> None:
    op.drop_index("ix_policy_waivers_target", table_name="policy_waivers")
    op.drop_index("ix_policy_waivers_rule_id", table_name="policy_waivers")
    op.drop_table("policy_waivers")
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    for column in ("target", "action", "actor", "at"):
        op.drop_index(f"ix_audit_log_{column}", table_name="audit_log")
    op.drop_table("audit_log")
