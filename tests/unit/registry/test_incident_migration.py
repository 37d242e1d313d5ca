"""Migration 0007 revokes every certificate of a platform or protected identity that the audit log shows
was issued through the API (the privilege escalation of issue 13), and nothing else."""

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command

from headwater.registry.database import alembic_config, create_database_engine, upgrade_database

NOW = datetime.now(UTC)


def _certificate(serial: str, identity: str) -> dict[str, object]:
    return {
        "serial": serial,
        "identity_name": identity,
        "not_before": NOW - timedelta(hours=1),
        "not_after": NOW + timedelta(hours=23),
        "issued_at": NOW - timedelta(hours=1),
        "revoked_at": None,
    }


def _audit(action: str, target: str, details: dict[str, object]) -> dict[str, object]:
    return {"at": NOW, "actor": "someone", "action": action, "target": target, "outcome": "done", "details": details}


def test_platform_certificates_issued_through_the_api_are_revoked_and_others_kept(database_url: str) -> None:
    engine = create_database_engine(database_url)
    command.upgrade(alembic_config(engine), "0006")
    metadata = sa.MetaData()
    metadata.reflect(engine, only=("identities", "certificates", "audit_log"))
    identities, certificates, audit = (metadata.tables[name] for name in ("identities", "certificates", "audit_log"))
    with engine.begin() as connection:
        for name, domain in [
            ("headwater-admin", "platform"),
            ("headwater-broker", "platform"),
            ("plat-tool", "platform"),
            ("orders-svc", "payments"),
            ("refunds-svc", "payments"),
        ]:
            connection.execute(identities.insert().values(name=name, domain=domain, kind="client", created_at=NOW))
        for serial, identity in [
            ("a1", "headwater-admin"),  # issued on the hub's machine by `local up`: kept
            ("a2", "headwater-admin"),  # renewed through the API by plat-tool: the escalation
            ("b1", "headwater-broker"),  # kept
            ("c1", "plat-tool"),  # issued on the hub's machine: kept
            ("c2", "plat-tool"),  # issued through the API: revoked
            ("d1", "orders-svc"),  # an ordinary identity issued through the API: kept
            ("e1", "refunds-svc"),  # a registration's owner certificate: kept (not a platform identity)
        ]:
            connection.execute(certificates.insert().values(**_certificate(serial, identity)))
        connection.execute(audit.insert().values(**_audit("identity.renew", "headwater-admin", {"serial": "a2"})))
        connection.execute(
            audit.insert().values(**_audit("identity.issue", "plat-tool", {"serial": "c2", "domain": "platform"}))
        )
        connection.execute(
            audit.insert().values(**_audit("identity.issue", "orders-svc", {"serial": "d1", "domain": "payments"}))
        )
        steps = {"steps": ["policies", "owner_identity", "owner_identity:e1", "schemas"]}
        connection.execute(audit.insert().values(**_audit("stream.register", "payments.refund", steps)))

    upgrade_database(engine)

    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT serial, issued_via, revoked_at FROM certificates")).all()
        entries = connection.execute(
            sa.text("SELECT target, details FROM audit_log WHERE action = 'certificate.revoke'")
        ).all()
    engine.dispose()
    revoked = {serial for serial, _via, revoked_at in rows if revoked_at is not None}
    via = {serial: issued_via for serial, issued_via, _ in rows}
    assert revoked == {"a2", "c2"}
    assert via == {
        "a1": "hub-machine",
        "a2": "api",
        "b1": "hub-machine",
        "c1": "hub-machine",
        "c2": "api",
        "d1": "api",
        "e1": "api",
    }
    logged = {target: details for target, details in entries}
    assert set(logged) == {"headwater-admin", "plat-tool"}
    details = logged["headwater-admin"]
    details = details if isinstance(details, dict) else json.loads(details)
    assert details["serials"] == ["a2"]
