"""The CA's ledger on a real database, once on SQLite and once on PostgreSQL (`database_url`)."""

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from cryptography import x509
from sqlalchemy import Engine

from headwater.registry.ca import (
    CertificateAuthority,
    CertificateKind,
    CertificateLedger,
    CertificateRecord,
    CertificateRequest,
    CertificateStatus,
    LifetimePolicy,
)
from headwater.registry.database import (
    alembic_config,
    create_database_engine,
    session_factory,
    upgrade_database,
)
from headwater.registry.errors import (
    CertificateNotFoundError,
    IdentityDomainMismatchError,
    IdentityKindMismatchError,
    IdentityNotFoundError,
    IdentityRevokedError,
)
from headwater.registry.models import Identity

LIFETIMES = LifetimePolicy(client=timedelta(days=30), server=timedelta(days=90))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(database_url)
    upgrade_database(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def ledger(engine: Engine, tmp_path: Path) -> CertificateLedger:
    authority = CertificateAuthority.create(tmp_path / "ca", "hub.example.org")
    return CertificateLedger(authority, session_factory(engine), LIFETIMES)


def statuses(records: Sequence[CertificateRecord]) -> dict[str, CertificateStatus]:
    now = datetime.now(UTC)
    return {record.serial: record.status(now) for record in records}


def test_issuing_creates_the_identity_and_records_a_valid_certificate(
    ledger: CertificateLedger, engine: Engine
) -> None:
    issued = ledger.issue("orders-svc", "payments")

    with session_factory(engine)() as session:
        identity = session.get(Identity, "orders-svc")
        assert identity is not None
        assert (identity.domain, identity.kind, identity.revoked_at) == ("payments", "client", None)
    (record,) = ledger.list_certificates()
    assert record.serial == issued.serial_hex
    assert (record.identity, record.domain, record.kind) == ("orders-svc", "payments", CertificateKind.CLIENT)
    assert record.revoked_at is None
    assert record.status(datetime.now(UTC)) is CertificateStatus.VALID
    assert issued.not_after - issued.not_before == LIFETIMES.client
    assert ledger.is_revoked(issued.serial) is False


def test_server_identity_gets_the_server_lifetime_and_keeps_its_kind_on_renewal(
    ledger: CertificateLedger,
) -> None:
    first = ledger.issue("broker", "platform", CertificateKind.SERVER)
    renewed = ledger.renew("broker")

    assert renewed.kind is CertificateKind.SERVER
    assert renewed.not_after - renewed.not_before == LIFETIMES.server
    assert [record.serial for record in ledger.list_certificates("broker")] == [
        first.serial_hex,
        renewed.serial_hex,
    ]


def test_a_serial_the_ledger_never_recorded_counts_as_revoked(ledger: CertificateLedger) -> None:
    ledger.issue("orders-svc", "payments")
    unrecorded = ledger.authority.sign(
        CertificateRequest("orders-svc", "payments", CertificateKind.CLIENT, timedelta(days=1))
    )

    assert ledger.is_revoked(unrecorded.serial) is True
    assert ledger.is_revoked(1) is True


def test_issuing_an_existing_identity_in_another_domain_is_refused_naming_both_domains(
    ledger: CertificateLedger,
) -> None:
    issued = ledger.issue("orders-svc", "payments")

    with pytest.raises(IdentityDomainMismatchError) as refused:
        ledger.issue("orders-svc", "shipping")

    message = str(refused.value)
    assert "'orders-svc'" in message
    assert "'payments'" in message
    assert "'shipping'" in message
    assert [record.serial for record in ledger.list_certificates()] == [issued.serial_hex]


def test_renewing_an_unknown_identity_says_to_issue_it_first(ledger: CertificateLedger) -> None:
    with pytest.raises(IdentityNotFoundError) as missing:
        ledger.renew("ghost-svc")

    assert "`headwater ca issue ghost-svc`" in str(missing.value)
    assert ledger.list_certificates() == []


def test_revoked_identity_loses_every_certificate_and_can_never_be_issued_or_renewed(
    ledger: CertificateLedger,
) -> None:
    first = ledger.issue("orders-svc", "payments")
    second = ledger.renew("orders-svc")
    bystander = ledger.issue("billing-svc", "payments")

    revoked = ledger.revoke_identity("orders-svc")

    assert sorted(revoked) == sorted([first.serial_hex, second.serial_hex])
    assert statuses(ledger.list_certificates("orders-svc")) == {
        first.serial_hex: CertificateStatus.REVOKED,
        second.serial_hex: CertificateStatus.REVOKED,
    }
    assert ledger.is_revoked(first.serial) is True
    assert ledger.is_revoked(second.serial) is True
    assert ledger.is_revoked(bystander.serial) is False
    with pytest.raises(IdentityRevokedError, match=r"Identity 'orders-svc' was revoked"):
        ledger.renew("orders-svc")
    with pytest.raises(IdentityRevokedError, match=r"Identity 'orders-svc' was revoked"):
        ledger.issue("orders-svc", "payments")
    assert len(ledger.list_certificates("orders-svc")) == 2


def test_revoking_one_certificate_leaves_the_identity_free_to_renew(ledger: CertificateLedger) -> None:
    leaked = ledger.issue("orders-svc", "payments")
    kept = ledger.renew("orders-svc")

    record = ledger.revoke_certificate(leaked.serial_hex)
    renewed = ledger.renew("orders-svc")

    assert record.serial == leaked.serial_hex
    assert record.status(datetime.now(UTC)) is CertificateStatus.REVOKED
    assert statuses(ledger.list_certificates("orders-svc")) == {
        leaked.serial_hex: CertificateStatus.REVOKED,
        kept.serial_hex: CertificateStatus.VALID,
        renewed.serial_hex: CertificateStatus.VALID,
    }
    assert ledger.is_revoked(leaked.serial) is True
    assert ledger.is_revoked(kept.serial) is False
    assert ledger.is_revoked(renewed.serial) is False


def test_revoking_a_certificate_accepts_its_serial_in_upper_case(ledger: CertificateLedger) -> None:
    issued = ledger.issue("orders-svc", "payments")

    ledger.revoke_certificate(issued.serial_hex.upper())

    assert ledger.is_revoked(issued.serial) is True


def test_revoking_an_unknown_serial_is_refused(ledger: CertificateLedger) -> None:
    ledger.issue("orders-svc", "payments")

    with pytest.raises(CertificateNotFoundError) as missing:
        ledger.revoke_certificate("deadbeef")

    assert str(missing.value) == (
        "No certificate with serial deadbeef was issued by this CA. List them with `headwater ca list`."
    )


def test_certificate_past_its_lifetime_lists_as_expired_and_one_not_yet_started_as_not_yet_valid(
    ledger: CertificateLedger,
) -> None:
    now = datetime.now(UTC)
    hour = timedelta(hours=1)
    expired = ledger.issue("old-svc", "payments", lifetime=hour, not_before=now - 2 * hour)
    future = ledger.issue("new-svc", "payments", lifetime=hour, not_before=now + hour)

    assert statuses(ledger.list_certificates()) == {
        expired.serial_hex: CertificateStatus.EXPIRED,
        future.serial_hex: CertificateStatus.NOT_YET_VALID,
    }


def test_timestamps_come_back_as_the_same_instants_in_utc(ledger: CertificateLedger) -> None:
    eastern = timezone(timedelta(hours=5, minutes=30))
    not_before = datetime(2030, 1, 2, 3, 4, 5, tzinfo=eastern)  # X.509 keeps whole seconds
    issued = ledger.issue("orders-svc", "payments", lifetime=timedelta(days=1), not_before=not_before)
    ledger.revoke_certificate(issued.serial_hex)

    (record,) = ledger.list_certificates()

    for instant in (record.not_before, record.not_after, record.revoked_at):
        assert instant is not None
        assert instant.tzinfo is UTC
    assert record.not_before == not_before
    assert record.not_after == not_before + timedelta(days=1)
    assert record.not_before.hour == 21  # 03:04 at +05:30 is 21:34 UTC the day before
    assert abs(datetime.now(UTC) - record.revoked_at) < timedelta(minutes=1)


def test_upgrading_the_database_twice_keeps_it_at_head_with_its_data(ledger: CertificateLedger, engine: Engine) -> None:
    issued = ledger.issue("orders-svc", "payments")

    upgrade_database(engine)

    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head
    assert [record.serial for record in ledger.list_certificates()] == [issued.serial_hex]
    assert ledger.renew("orders-svc").identity == "orders-svc"


def test_issuing_another_kind_for_an_existing_identity_is_refused(ledger: CertificateLedger) -> None:
    ledger.issue("edge-broker", "platform", CertificateKind.CLIENT)
    with pytest.raises(IdentityKindMismatchError, match="'edge-broker' holds client certificates, not server ones"):
        ledger.issue("edge-broker", "platform", CertificateKind.SERVER)


def test_recorded_validity_equals_the_certificates_own(ledger: CertificateLedger) -> None:
    issued = ledger.issue("exact-svc", "orders", not_before=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC))
    certificate = x509.load_pem_x509_certificate(issued.certificate_pem)
    (record,) = ledger.list_certificates("exact-svc")
    assert record.not_before == certificate.not_valid_before_utc
    assert record.not_after == certificate.not_valid_after_utc


def test_concurrent_first_issues_of_one_identity_all_succeed(ledger: CertificateLedger) -> None:
    # Two stream registrations naming the same new owner race to create its identity row.
    with ThreadPoolExecutor(max_workers=6) as pool:
        issued = list(pool.map(lambda _: ledger.issue("orders-svc", "payments"), range(6)))

    assert len({certificate.serial for certificate in issued}) == 6
    assert len(ledger.list_certificates("orders-svc")) == 6
