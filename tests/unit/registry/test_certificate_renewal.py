"""Renewal by certificate signing request, the broker's revocation list and the one identity rule, on a
real database (SQLite and PostgreSQL) and real certificates (issue 13)."""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine

from headwater.registry.ca import (
    CertificateAuthority,
    CertificateKind,
    CertificateLedger,
    CertificateRequest,
    IssuancePath,
    LifetimePolicy,
)
from headwater.registry.ca.authority import new_signing_request, read_signing_request
from headwater.registry.ca.identity_rule import identity_of_subject
from headwater.registry.ca.revocation_list import RevocationListError, parse
from headwater.registry.database import session_factory
from headwater.registry.errors import (
    CertificateKeyReusedError,
    CertificateLifetimeInvalidError,
    CertificateRequestInvalidError,
)

LIFETIMES = LifetimePolicy(client=timedelta(hours=1), server=timedelta(hours=2))


@pytest.fixture
def ledger(migrated_engine: Engine, tmp_path: Path) -> CertificateLedger:
    authority = CertificateAuthority.create(tmp_path / "ca", "hub.example.org")
    return CertificateLedger(authority, session_factory(migrated_engine), LIFETIMES)


def _key_of(csr_pem: bytes):
    return read_signing_request(csr_pem.decode())


def test_a_renewal_certifies_the_new_key_and_revokes_the_old_certificate_after_the_grace(
    ledger: CertificateLedger,
) -> None:
    old = ledger.issue("orders-svc", "payments")
    csr_pem, _key = new_signing_request("orders-svc")
    renewed = ledger.renew_by_request("orders-svc", _key_of(csr_pem), old.serial, grace=timedelta(seconds=1.5))

    assert renewed.identity == "orders-svc" and renewed.serial != old.serial
    assert ledger.certificate(renewed.serial_hex).issued_via is IssuancePath.API
    assert ledger.certificate(old.serial_hex).issued_via is IssuancePath.HUB_MACHINE
    assert not ledger.is_revoked(old.serial)  # still valid during the grace period
    listed = {item.serial_hex: item.revoked_at for item in parse(ledger.revocation_list_path.read_text())}
    assert old.serial_hex in listed and listed[old.serial_hex] > datetime.now(UTC)  # the broker knows when
    time.sleep(1.6)
    assert ledger.is_revoked(old.serial) and not ledger.is_revoked(renewed.serial)


def test_an_explicit_revocation_during_the_grace_takes_effect_at_once(ledger: CertificateLedger) -> None:
    old = ledger.issue("orders-svc", "payments")
    ledger.renew_by_request("orders-svc", _key_of(new_signing_request("orders-svc")[0]), old.serial, timedelta(hours=1))
    ledger.revoke_certificate(old.serial_hex)
    assert ledger.is_revoked(old.serial)
    listed = {item.serial_hex: item.revoked_at for item in parse(ledger.revocation_list_path.read_text())}
    assert listed[old.serial_hex] <= datetime.now(UTC)


def test_a_key_pair_is_certified_once(ledger: CertificateLedger) -> None:
    old = ledger.issue("orders-svc", "payments")
    csr_pem, _ = new_signing_request("orders-svc")
    ledger.renew_by_request("orders-svc", _key_of(csr_pem), old.serial, timedelta(minutes=2))
    with pytest.raises(CertificateKeyReusedError, match="new key pair"):
        ledger.renew_by_request("orders-svc", _key_of(csr_pem), old.serial, timedelta(minutes=2))
    with pytest.raises(CertificateKeyReusedError):
        ledger.certify("other-svc", "payments", _key_of(csr_pem))  # nor for another identity


def test_the_revocation_list_holds_every_revoked_unexpired_serial_and_is_rewritten_only_on_change(
    ledger: CertificateLedger,
) -> None:
    kept = ledger.issue("a-svc", "payments")
    revoked = ledger.issue("b-svc", "payments")
    expired = ledger.issue(
        "c-svc", "payments", lifetime=timedelta(hours=1), not_before=datetime.now(UTC) - timedelta(hours=3)
    )
    ledger.revoke_certificate(revoked.serial_hex)
    ledger.revoke_certificate(expired.serial_hex)
    listed = {item.serial_hex for item in parse(ledger.revocation_list_path.read_text())}
    assert listed == {revoked.serial_hex}, "expired certificates are refused by their notAfter, not listed"
    assert kept.serial_hex not in listed
    assert ledger.publish_revocations() is False  # nothing changed: the broker has nothing to reload
    ledger.revoke_identity("a-svc")
    assert {item.serial_hex for item in parse(ledger.revocation_list_path.read_text())} == {
        revoked.serial_hex,
        kept.serial_hex,
    }


@pytest.mark.parametrize(
    "text",
    ["", "headwater-revocations 1\ngenerated 1\nrevoked ab 1\n", "headwater-revocations 1\ngenerated 1\nend 1\n"],
)
def test_a_cut_revocation_list_does_not_parse(text: str) -> None:
    with pytest.raises(RevocationListError):
        parse(text)


def _csr(key, name: x509.Name) -> str:
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(name)
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )


def test_signing_requests_are_checked_before_their_key_is_used() -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "orders-svc")])
    read_signing_request(_csr(ec.generate_private_key(ec.SECP384R1()), name))
    read_signing_request(_csr(rsa.generate_private_key(65537, 2048), name))
    with pytest.raises(CertificateRequestInvalidError, match="not a PEM certificate signing request"):
        read_signing_request("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")
    with pytest.raises(CertificateRequestInvalidError, match="RSA >= 2048"):
        read_signing_request(_csr(rsa.generate_private_key(65537, 1024), name))
    with pytest.raises(CertificateRequestInvalidError, match="not an EC P-256"):
        read_signing_request(_csr(ec.generate_private_key(ec.SECP256K1()), name))
    # A request whose signature was made by another key than the one it carries.
    csr = x509.load_pem_x509_csr(_csr(ec.generate_private_key(ec.SECP256R1()), name).encode())
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0x01  # inside the signature value
    forged = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM).decode()
    with pytest.raises(CertificateRequestInvalidError, match="signature"):
        read_signing_request(forged)


@pytest.mark.parametrize("hours", [0.05, 0.0, -1.0])
def test_a_lifetime_within_the_backdating_is_refused(tmp_path: Path, hours: float) -> None:
    authority = CertificateAuthority.create(tmp_path / "ca", "hub.example.org")
    request = CertificateRequest("orders-svc", "payments", CertificateKind.CLIENT, timedelta(hours=hours))
    with pytest.raises(CertificateLifetimeInvalidError, match="--lifetime-hours"):
        authority.sign(request)


def _name(*rdns: list[x509.NameAttribute]) -> x509.Name:
    return x509.Name([x509.RelativeDistinguishedName(attributes) for attributes in rdns])


CN, OU, ORG = NameOID.COMMON_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.ORGANIZATION_NAME


@pytest.mark.parametrize(
    ("subject", "identity"),
    [
        (
            _name(
                [x509.NameAttribute(ORG, "headwater")], [x509.NameAttribute(OU, "p")], [x509.NameAttribute(CN, "svc")]
            ),
            "svc",
        ),
        (_name([x509.NameAttribute(CN, "evil")], [x509.NameAttribute(CN, "headwater-admin")]), None),
        (_name([x509.NameAttribute(CN, "a"), x509.NameAttribute(CN, "b")]), None),
        (_name([x509.NameAttribute(CN, "a"), x509.NameAttribute(ORG, "b")]), None),
        (_name([x509.NameAttribute(CN, "a,b")]), None),
        (_name([x509.NameAttribute(CN, "a\x00b")]), None),
        (_name([x509.NameAttribute(CN, "Orders-Svc")]), None),
        (_name([x509.NameAttribute(CN, "-svc")]), None),
        (_name([x509.NameAttribute(OU, "p")]), None),
    ],
    ids=["plain", "two-cn-rdns", "multi-valued-cn", "cn-with-o", "comma", "nul", "upper-case", "leading-dash", "no-cn"],
)
def test_one_rule_reads_the_identity_of_a_subject(subject: x509.Name, identity: str | None) -> None:
    assert identity_of_subject(subject) == identity
