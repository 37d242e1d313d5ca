"""Certificates signed by the hub CA with subjects the CA itself never writes.

The CA only ever signs `CN=<identity>,OU=<domain>,O=headwater`; these stand for a CA key misused, a
future signing path with a bug, or a subject smuggled through a request. Both the broker and the hub
must find no identity in any of them (registry/ca/identity_rule.py), so they get no rights at all.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from headwater.registry.ca import CertificateAuthority
from headwater.registry.ca.authority import CLOCK_SKEW_ALLOWANCE
from headwater.registry.ca.pem_files import PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, write_pem_file

ADMIN = "headwater-admin"


def _common_name(value: str) -> x509.NameAttribute:
    return x509.NameAttribute(NameOID.COMMON_NAME, value)


_ORGANIZATION = x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "headwater")])
_PLATFORM = x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "platform")])


def _subject(*most_specific_last: x509.RelativeDistinguishedName) -> x509.Name:
    """`O=headwater`, `OU=platform`, then the given RDNs, in DER order (RFC 4514 prints them reversed)."""
    return x509.Name([_ORGANIZATION, _PLATFORM, *most_specific_last])


def _rdn(*attributes: x509.NameAttribute) -> x509.RelativeDistinguishedName:
    return x509.RelativeDistinguishedName(attributes)


CRAFTED_SUBJECTS: dict[str, x509.Name] = {
    # `CN=evil,CN=headwater-admin,OU=platform,O=headwater`: the old principal mapping regex found the admin.
    "two-common-name-rdns": _subject(_rdn(_common_name(ADMIN)), _rdn(_common_name("evil"))),
    # `CN=evil+CN=headwater-admin,...`: one RDN, two common names.
    "two-common-names-in-one-rdn": _subject(_rdn(_common_name(ADMIN), _common_name("evil"))),
    # `CN=headwater-admin+O=x,...`: the common name's RDN holds something else too.
    "common-name-rdn-with-another-attribute": _subject(
        _rdn(_common_name(ADMIN), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "x"))
    ),
    # `CN=x\,CN=headwater-admin,...`: an escaped comma that a regex over the string reads as an RDN.
    "escaped-comma-in-common-name": _subject(_rdn(_common_name(f"x,CN={ADMIN}"))),
    "nul-in-common-name": _subject(_rdn(_common_name(f"{ADMIN}\x00"))),
    "upper-case-common-name": _subject(_rdn(_common_name(ADMIN.upper()))),
}


@dataclass(frozen=True)
class CraftedCertificate:
    certificate_file: Path
    key_file: Path
    serial: int


def craft_certificate(ca_dir: Path, subject: x509.Name, folder: Path, stem: str) -> CraftedCertificate:
    """A client certificate for `subject`, signed by the CA in `ca_dir` with its key file, valid for an
    hour, with a fresh EC P-256 key; written to `<folder>/<stem>.crt|.key`."""
    authority = CertificateAuthority.load(ca_dir)
    ca_key = serialization.load_pem_private_key((ca_dir / CertificateAuthority.KEY_FILE).read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW_ALLOWANCE)
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return CraftedCertificate(
        write_pem_file(folder / f"{stem}.crt", certificate.public_bytes(serialization.Encoding.PEM), PUBLIC_FILE_MODE),
        write_pem_file(folder / f"{stem}.key", key_pem, PRIVATE_FILE_MODE),
        certificate.serial_number,
    )
