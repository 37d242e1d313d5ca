"""The hub's certificate authority: one CA key pair, and leaf certificates for identities.

Keys are ECDSA P-256 written as unencrypted PKCS#8 PEM, the one form that both the Kafka broker's
PEM keystore and librdkafka's `ssl.key.location` accept without a password.
"""

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from headwater.registry.ca.pem_files import PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, write_pem_file
from headwater.registry.errors import (
    CertificateAuthorityError,
    CertificateAuthorityMissingError,
    IdentityNameInvalidError,
)

# DNS-label shaped names: they appear verbatim in certificate subjects, Kafka principals
# (`User:<name>`) and SPIFFE URIs, so no commas, slashes or escapes can ever be needed.
_NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_NAME_RULE = "use 1-63 lower-case letters, digits and '-', starting and ending with a letter or digit"
CLOCK_SKEW_ALLOWANCE = timedelta(minutes=5)
ORGANIZATION = "headwater"


class CertificateKind(StrEnum):
    CLIENT = "client"
    """A service or a person: TLS client authentication only."""
    SERVER = "server"
    """The broker or the hub: server authentication for localhost, and client authentication for
    the broker's connections to itself."""


def is_valid_name(name: str) -> bool:
    """Whether `name` may name an identity or a domain."""
    return _NAME_PATTERN.fullmatch(name) is not None


def validate_name(name: str) -> str:
    if not is_valid_name(name):
        raise IdentityNameInvalidError(name, _NAME_RULE)
    return name


@dataclass(frozen=True)
class CertificateRequest:
    identity: str
    domain: str
    kind: CertificateKind
    lifetime: timedelta
    not_before: datetime | None = None
    """Defaults to now minus a small clock-skew allowance; tests pass past or future instants."""


@dataclass(frozen=True)
class IssuedCertificate:
    identity: str
    domain: str
    kind: CertificateKind
    serial: int
    not_before: datetime
    not_after: datetime
    certificate_pem: bytes
    private_key_pem: bytes = field(repr=False)

    @property
    def serial_hex(self) -> str:
        return format(self.serial, "x")

    def write(self, folder: Path) -> tuple[Path, Path]:
        """Write `<folder>/<identity>.crt` and `<folder>/<identity>.key` (mode 0600)."""
        certificate_path = write_pem_file(folder / f"{self.identity}.crt", self.certificate_pem, PUBLIC_FILE_MODE)
        key_path = write_pem_file(folder / f"{self.identity}.key", self.private_key_pem, PRIVATE_FILE_MODE)
        return certificate_path, key_path


def _new_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class CertificateAuthority:
    CERTIFICATE_FILE = "ca.crt"
    KEY_FILE = "ca.key"

    def __init__(self, folder: Path, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey):
        self.folder = folder
        self.certificate = certificate
        self._key = key

    @property
    def certificate_path(self) -> Path:
        return self.folder / self.CERTIFICATE_FILE

    @property
    def trust_domain(self) -> str:
        san = self.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        (uri,) = san.get_values_for_type(x509.UniformResourceIdentifier)
        return uri.removeprefix("spiffe://")

    @classmethod
    def exists(cls, folder: Path) -> bool:
        return (folder / cls.CERTIFICATE_FILE).is_file() and (folder / cls.KEY_FILE).is_file()

    @classmethod
    def create(
        cls,
        folder: Path,
        trust_domain: str,
        common_name: str = "headwater CA",
        lifetime: timedelta = timedelta(days=3650),
    ) -> "CertificateAuthority":
        if cls.exists(folder):
            raise CertificateAuthorityError(
                f"A certificate authority already exists in {folder}; it is created only once."
            )
        key = _new_private_key()
        now = datetime.now(UTC)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW_ALLOWANCE)
            .not_valid_after(now + lifetime)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.SubjectAlternativeName([x509.UniformResourceIdentifier(f"spiffe://{trust_domain}")]),
                critical=False,
            )
            .sign(key, hashes.SHA256())
        )
        write_pem_file(folder / cls.KEY_FILE, _private_key_pem(key), PRIVATE_FILE_MODE)
        write_pem_file(
            folder / cls.CERTIFICATE_FILE,
            certificate.public_bytes(serialization.Encoding.PEM),
            PUBLIC_FILE_MODE,
        )
        return cls(folder, certificate, key)

    @classmethod
    def load(cls, folder: Path) -> "CertificateAuthority":
        if not cls.exists(folder):
            raise CertificateAuthorityMissingError(str(folder))
        try:
            certificate = x509.load_pem_x509_certificate((folder / cls.CERTIFICATE_FILE).read_bytes())
            key = serialization.load_pem_private_key((folder / cls.KEY_FILE).read_bytes(), password=None)
        except ValueError as exc:
            raise CertificateAuthorityError(
                f"The certificate authority in {folder} is unreadable ({exc}). "
                "Restore ca.crt and ca.key from a backup, or move the folder away and run `headwater ca init`."
            ) from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise CertificateAuthorityError(f"{folder / cls.KEY_FILE} is not an EC private key.")
        return cls(folder, certificate, key)

    @classmethod
    def load_or_create(cls, folder: Path, trust_domain: str) -> "CertificateAuthority":
        return cls.load(folder) if cls.exists(folder) else cls.create(folder, trust_domain)

    def spiffe_id(self, identity: str, domain: str) -> str:
        return f"spiffe://{self.trust_domain}/domain/{domain}/svc/{identity}"

    def sign(self, request: CertificateRequest) -> IssuedCertificate:
        identity = validate_name(request.identity)
        domain = validate_name(request.domain)
        key = _new_private_key()
        # X.509 validity has whole seconds; recording microseconds would let the ledger call a
        # certificate valid for up to a second after it expired.
        not_before = (request.not_before or datetime.now(UTC) - CLOCK_SKEW_ALLOWANCE).replace(microsecond=0)
        not_after = not_before + request.lifetime
        names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(self.spiffe_id(identity, domain))]
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
        if request.kind is CertificateKind.SERVER:
            names += [x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
            usages.insert(0, ExtendedKeyUsageOID.SERVER_AUTH)
        # Most general first, so the RFC 2253 form Kafka maps to a principal reads `CN=<identity>,...`.
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, domain),
                x509.NameAttribute(NameOID.COMMON_NAME, identity),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=True,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        chain = certificate.public_bytes(serialization.Encoding.PEM)
        return IssuedCertificate(
            identity=identity,
            domain=domain,
            kind=request.kind,
            serial=certificate.serial_number,
            not_before=not_before,
            not_after=not_after,
            certificate_pem=chain,
            private_key_pem=_private_key_pem(key),
        )
