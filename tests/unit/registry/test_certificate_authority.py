"""The hub CA on its own: real keys and certificates in temporary folders, no database."""

import ipaddress
import random
import stat
import string
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from headwater.registry.ca import (
    CertificateAuthority,
    CertificateKind,
    CertificateRequest,
    IssuedCertificate,
    validate_name,
)
from headwater.registry.ca.identity_rule import identity_of_subject
from headwater.registry.errors import (
    CertificateAuthorityError,
    CertificateAuthorityMissingError,
    IdentityNameInvalidError,
)

TRUST_DOMAIN = "hub.example.org"
LIFETIME = timedelta(days=30, hours=5, minutes=7, seconds=11)
NAME_RULE_TEXT = "use 1-63 lower-case letters, digits and '-', starting and ending with a letter or digit"
INVALID_NAMES = ["", "Orders", "a,b", "-x", "x-", "a" * 64, "svc/1", "orders\n"]
VALID_EDGE_NAMES = ["a", "a" * 63, "orders-svc-2"]


@pytest.fixture
def authority(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path / "ca", TRUST_DOMAIN)


def issue(
    authority: CertificateAuthority,
    identity: str = "orders-svc",
    domain: str = "payments",
    kind: CertificateKind = CertificateKind.CLIENT,
    lifetime: timedelta = LIFETIME,
) -> tuple[IssuedCertificate, x509.Certificate]:
    issued = authority.sign(CertificateRequest(identity, domain, kind, lifetime))
    return issued, x509.load_pem_x509_certificate(issued.certificate_pem)


def subject_values(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(attribute.value) for attribute in certificate.subject.get_attributes_for_oid(oid)]


def extended_key_usages(certificate: x509.Certificate) -> list[str]:
    usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    return sorted(oid.dotted_string for oid in usage)


def random_name(generator: random.Random) -> str:
    edge = string.ascii_lowercase + string.digits
    length = generator.randint(1, 63)
    if length == 1:
        return generator.choice(edge)
    middle = "".join(generator.choice(edge + "-") for _ in range(length - 2))
    return generator.choice(edge) + middle + generator.choice(edge)


def test_issued_client_certificate_verifies_against_the_ca_and_names_its_identity(
    authority: CertificateAuthority,
) -> None:
    issued, certificate = issue(authority)

    certificate.verify_directly_issued_by(authority.certificate)
    assert subject_values(certificate, NameOID.COMMON_NAME) == ["orders-svc"]
    assert subject_values(certificate, NameOID.ORGANIZATIONAL_UNIT_NAME) == ["payments"]
    assert subject_values(certificate, NameOID.ORGANIZATION_NAME) == ["headwater"]
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert list(san) == [x509.UniformResourceIdentifier(f"spiffe://{TRUST_DOMAIN}/domain/payments/svc/orders-svc")]
    assert extended_key_usages(certificate) == [ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string]
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.value.ca is False
    assert constraints.critical is True
    assert certificate.not_valid_after_utc - certificate.not_valid_before_utc == LIFETIME
    assert certificate.serial_number == issued.serial
    assert (issued.identity, issued.domain, issued.kind) == ("orders-svc", "payments", CertificateKind.CLIENT)


def test_issued_server_certificate_also_serves_localhost_and_authenticates_both_ways(
    authority: CertificateAuthority,
) -> None:
    _, certificate = issue(authority, identity="broker", domain="platform", kind=CertificateKind.SERVER)

    certificate.verify_directly_issued_by(authority.certificate)
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [
        f"spiffe://{TRUST_DOMAIN}/domain/platform/svc/broker"
    ]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.IPv4Address("127.0.0.1")]
    assert extended_key_usages(certificate) == sorted(
        [ExtendedKeyUsageOID.SERVER_AUTH.dotted_string, ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string]
    )
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert certificate.not_valid_after_utc - certificate.not_valid_before_utc == LIFETIME


def test_written_certificate_and_key_are_named_after_the_identity_and_the_key_is_private(
    authority: CertificateAuthority, tmp_path: Path
) -> None:
    issued, certificate = issue(authority)
    folder = tmp_path / "identities"

    certificate_path, key_path = issued.write(folder)

    assert (certificate_path, key_path) == (folder / "orders-svc.crt", folder / "orders-svc.key")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert certificate_path.read_bytes() == issued.certificate_pem
    key_pem = key_path.read_bytes()
    assert key_pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert key.public_key().public_bytes(*spki) == certificate.public_key().public_bytes(*spki)


def test_rewriting_a_key_over_a_world_readable_file_leaves_it_private(
    authority: CertificateAuthority, tmp_path: Path
) -> None:
    folder = tmp_path / "identities"
    folder.mkdir()
    stale_key = folder / "orders-svc.key"
    stale_key.write_bytes(b"stale")
    stale_key.chmod(0o644)
    issued, _ = issue(authority)

    _, key_path = issued.write(folder)

    assert key_path == stale_key
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_path.read_bytes() == issued.private_key_pem


def test_repr_of_an_issued_certificate_does_not_reveal_the_private_key(
    authority: CertificateAuthority,
) -> None:
    issued, _ = issue(authority)
    key_body = issued.private_key_pem.decode().splitlines()[1]

    text = repr(issued)

    assert "orders-svc" in text
    assert "PRIVATE KEY" not in text
    assert key_body not in text


@pytest.mark.parametrize(
    ("identity", "domain"),
    [("orders-svc", "payments"), ("a", "b"), ("0", "cn"), ("cn-o-ou", "o"), ("a" * 63, "z" * 63)],
)
def test_subject_names_exactly_the_identity_under_the_identity_rule(
    authority: CertificateAuthority, identity: str, domain: str
) -> None:
    _, certificate = issue(authority, identity=identity, domain=domain)

    assert certificate.subject.rfc4514_string() == f"CN={identity},OU={domain},O=headwater"
    assert identity_of_subject(certificate.subject) == identity


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_invalid_identity_name_is_refused_naming_the_name_and_the_rule(
    authority: CertificateAuthority, name: str
) -> None:
    with pytest.raises(IdentityNameInvalidError) as refused:
        authority.sign(CertificateRequest(name, "payments", CertificateKind.CLIENT, LIFETIME))

    assert str(refused.value) == f"Identity name {name!r} is invalid: {NAME_RULE_TEXT}."


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_invalid_domain_name_is_refused_naming_the_name_and_the_rule(
    authority: CertificateAuthority, name: str
) -> None:
    with pytest.raises(IdentityNameInvalidError) as refused:
        authority.sign(CertificateRequest("orders-svc", name, CertificateKind.CLIENT, LIFETIME))

    assert repr(name) in str(refused.value)
    assert NAME_RULE_TEXT in str(refused.value)


@pytest.mark.parametrize("name", VALID_EDGE_NAMES)
def test_names_at_the_edges_of_the_rule_are_accepted_as_identity_and_domain(
    authority: CertificateAuthority, name: str
) -> None:
    assert validate_name(name) == name
    issued, certificate = issue(authority, identity=name, domain=name)

    assert (issued.identity, issued.domain) == (name, name)
    assert subject_values(certificate, NameOID.COMMON_NAME) == [name]
    assert subject_values(certificate, NameOID.ORGANIZATIONAL_UNIT_NAME) == [name]


def test_creating_a_second_ca_in_the_same_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ca"
    first = CertificateAuthority.create(folder, TRUST_DOMAIN)
    original_certificate = (folder / "ca.crt").read_bytes()

    with pytest.raises(CertificateAuthorityError, match="already exists") as refused:
        CertificateAuthority.create(folder, "other.example.org")

    assert str(folder) in str(refused.value)
    assert (folder / "ca.crt").read_bytes() == original_certificate
    assert CertificateAuthority.load(folder).certificate == first.certificate


def test_loading_an_empty_folder_says_to_run_ca_init(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()

    with pytest.raises(CertificateAuthorityMissingError) as missing:
        CertificateAuthority.load(folder)

    assert str(missing.value) == f"No certificate authority in {folder}. Create one with `headwater ca init`."


def test_loading_a_ca_with_a_garbage_certificate_says_it_is_unreadable(tmp_path: Path) -> None:
    folder = tmp_path / "ca"
    CertificateAuthority.create(folder, TRUST_DOMAIN)
    (folder / "ca.crt").write_bytes(b"this is not a certificate\n")

    with pytest.raises(CertificateAuthorityError, match="unreadable") as unreadable:
        CertificateAuthority.load(folder)

    assert not isinstance(unreadable.value, CertificateAuthorityMissingError)
    assert "headwater ca init" in str(unreadable.value)


def test_ca_key_is_private_and_trust_domain_survives_a_reload(tmp_path: Path) -> None:
    folder = tmp_path / "ca"
    created = CertificateAuthority.create(folder, TRUST_DOMAIN)

    loaded = CertificateAuthority.load(folder)

    assert stat.S_IMODE((folder / "ca.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "ca.crt").stat().st_mode) == 0o644
    assert loaded.trust_domain == TRUST_DOMAIN
    assert loaded.certificate == created.certificate
    _, certificate = issue(loaded)
    certificate.verify_directly_issued_by(created.certificate)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_every_issued_certificate_verifies_against_its_own_ca_and_never_a_foreign_one(
    tmp_path: Path, seed: int
) -> None:
    own = CertificateAuthority.create(tmp_path / "own", TRUST_DOMAIN)
    foreign = CertificateAuthority.create(tmp_path / "foreign", "foreign.example.org")
    assert own.certificate.subject == foreign.certificate.subject  # only the signature can tell them apart
    generator = random.Random(seed)

    for _ in range(25):
        identity, domain = random_name(generator), random_name(generator)
        kind = generator.choice(list(CertificateKind))
        _, certificate = issue(own, identity=identity, domain=domain, kind=kind)

        certificate.verify_directly_issued_by(own.certificate)
        with pytest.raises(InvalidSignature):
            certificate.verify_directly_issued_by(foreign.certificate)
        assert identity_of_subject(certificate.subject) == identity
