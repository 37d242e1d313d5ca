"""how each certificate was issued and for which key; incident response for API-issued platform certificates

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

Before this revision an ordinary identity of the `platform` domain could renew `headwater-admin` or
`headwater-broker` through the API and receive a new certificate with its private key, and could issue
more platform identities (issue 13). Certificates of platform or protected identities are only ever
issued by the CA key's holder on the hub's machine, which writes no audit entry; so every such
certificate that the audit log shows was issued through the API (`identity.issue`, `identity.renew`,
or a stream registration's owner step) is revoked here, with an audit entry naming each serial.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLATFORM_DOMAIN = "platform"
PROTECTED_IDENTITIES = ("headwater-admin", "headwater-broker", "headwater-hub")
"""The defaults of `LocalSettings` and the hub's own name, as they were when the hole existed."""
_OWNER_STEP = "owner_identity:"

_audit = sa.table(
    "audit_log",
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("target", sa.String),
    sa.column("outcome", sa.String),
    sa.column("details", sa.JSON),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
)
_certificates = sa.table(
    "certificates",
    sa.column("serial", sa.String),
    sa.column("identity_name", sa.String),
    sa.column("revoked_at", sa.DateTime(timezone=True)),
    sa.column("issued_via", sa.String),
)
_identities = sa.table("identities", sa.column("name", sa.String), sa.column("domain", sa.String))


def upgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("issued_via", sa.String(16), nullable=False, server_default="hub-machine"))
        batch.add_column(sa.Column("public_key_sha256", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_certificates_public_key_sha256", ["public_key_sha256"])
    with op.batch_alter_table("certificates") as batch:
        batch.alter_column("issued_via", server_default=None)
    connection = op.get_bind()
    through_api = _serials_issued_through_the_api(connection)
    if through_api:
        connection.execute(
            _certificates.update().where(_certificates.c.serial.in_(through_api)).values(issued_via="api")
        )
    _revoke_platform_certificates_issued_through_the_api(connection)


def _serials_issued_through_the_api(connection: sa.Connection) -> list[str]:
    serials: set[str] = set()
    entries = connection.execute(
        sa.select(_audit.c.action, _audit.c.details).where(
            _audit.c.action.in_(("identity.issue", "identity.renew", "stream.register")), _audit.c.outcome == "done"
        )
    )
    for action, details in entries:
        details = details or {}
        if action == "stream.register":
            steps: list[Any] = details.get("steps") or []
            serials.update(step.removeprefix(_OWNER_STEP) for step in steps if str(step).startswith(_OWNER_STEP))
        elif isinstance(details.get("serial"), str):
            serials.add(details["serial"])
    return sorted(serials)


def _revoke_platform_certificates_issued_through_the_api(connection: sa.Connection) -> None:
    now = datetime.now(UTC)
    rows = connection.execute(
        sa.select(_certificates.c.serial, _certificates.c.identity_name)
        .join(_identities, _identities.c.name == _certificates.c.identity_name)
        .where(
            _certificates.c.issued_via == "api",
            _certificates.c.revoked_at.is_(None),
            sa.or_(_identities.c.domain == PLATFORM_DOMAIN, _identities.c.name.in_(PROTECTED_IDENTITIES)),
        )
        .order_by(_certificates.c.identity_name, _certificates.c.serial)
    ).all()
    by_identity: dict[str, list[str]] = {}
    for serial, identity in rows:
        by_identity.setdefault(identity, []).append(serial)
    for identity, serials in by_identity.items():
        connection.execute(_certificates.update().where(_certificates.c.serial.in_(serials)).values(revoked_at=now))
        connection.execute(
            _audit.insert().values(
                at=now,
                actor="headwater",
                action="certificate.revoke",
                target=identity,
                outcome="done",
                details={
                    "serials": serials,
                    "reason": "platform identity certificate issued through the API (issue 13); migration 0007",
                },
                before=None,
                after=None,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        batch.drop_constraint("uq_certificates_public_key_sha256", type_="unique")
        batch.drop_column("public_key_sha256")
        batch.drop_column("issued_via")
