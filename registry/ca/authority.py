"""The hub's certificate authority: one CA key pair, and leaf certificates for identities.

Keys are ECDSA P-256 written as unencrypted PKCS#8 PEM, the one form that both the Kafka broker's
PEM keystore and librdkafka's `ssl.key.location` accept without a password.
"""

import hashlib
import ipaddress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from headwater.registry.ca.identity_rule import IDENTITY_NAME_PATTERN
from headwater.registry.ca.pem_files import PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, write_pem_file
from headwater.registry.errors import (
    CertificateAuthorityError,
    CertificateAuthorityMissingError,
    CertificateLifetimeInvalidError,
    CertificateRequestInvalidError,
    IdentityNameInvalidError,
)

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
    return IDENTITY_NAME_PATTERN.fullmatch(name) is not None


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
class SignedCertificate:
    """A certificate the CA signed for a public key it was given; the key pair stays with its owner."""

    identity: str
    domain: str
    kind: CertificateKind
    serial: int
    not_before: datetime
    not_after: datetime
    certificate_pem: bytes
    public_key_sha256: str

    @property
    def serial_hex(self) -> str:
        return format(self.serial, "x")


@dataclass(frozen=True)
class IssuedCertificate(SignedCertificate):
    """A certificate with the key pair the CA generated for it: only where the CA key is (`headwater ca`,
    the local stack), never over the API."""

    private_key_pem: bytes = field(repr=False, default=b"")

    def write(self, folder: Path) -> tuple[Path, Path]:
        """Write `<folder>/<identity>.crt` and `<folder>/<identity>.key` (mode 0600)."""
        certificate_path = write_pem_file(folder / f"{self.identity}.crt", self.certificate_pem, PUBLIC_FILE_MODE)
        key_path = write_pem_file(folder / f"{self.identity}.key", self.private_key_pem, PRIVATE_FILE_MODE)
        return certificate_path, key_path


CertifiablePublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
_ACCEPTED_CURVES = (ec.SECP256R1, ec.SECP384R1)
_MINIMUM_RSA_BITS = 2048


def public_key_sha256(key: CertifiablePublicKey) -> str:
    """The SHA-256 of the key's SubjectPublicKeyInfo: how the ledger tells a new key pair from a reused one."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def read_signing_request(csr_pem: str) -> CertifiablePublicKey:
    """The public key of a PEM certificate signing request whose signature proves its key's owner made it.

    Only the key is taken: subject, extensions and lifetime are the CA's to set, from the caller."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode("utf-8", "surrogatepass"))
    except ValueError as exc:
        raise CertificateRequestInvalidError(f"it is not a PEM certificate signing request ({exc})") from exc
    try:
        key = csr.public_key()
        signed = csr.is_signature_valid
    except (ValueError, TypeError) as exc:
        raise CertificateRequestInvalidError(f"its key or signature cannot be read ({exc})") from exc
    if not signed:
        raise CertificateRequestInvalidError("its signature does not verify with its own public key")
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, _ACCEPTED_CURVES):
        return key
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= _MINIMUM_RSA_BITS:
        return key
    raise CertificateRequestInvalidError(
        f"its key ({type(key).__name__}) is not an EC P-256/P-384 or RSA >= {_MINIMUM_RSA_BITS}-bit key"
    )


def new_signing_request(identity: str) -> tuple[bytes, bytes]:
    """A new EC P-256 key pair and a CSR for it, made where the key will live: (csr_pem, private_key_pem)."""
    key = _new_private_key()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, identity)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM), _private_key_pem(key)


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
        """Sign a certificate for a key pair generated here (the CA's own machine only)."""
        key = _new_private_key()
        signed = self.certify(request, key.public_key())
        return IssuedCertificate(**vars(signed), private_key_pem=_private_key_pem(key))

    def certify(self, request: CertificateRequest, public_key: CertifiablePublicKey) -> SignedCertificate:
        """Sign a certificate for `public_key`; subject, usages and lifetime come from `request` alone."""
        identity = validate_name(request.identity)
        domain = validate_name(request.domain)
        # Backdated by the clock-skew allowance, a certificate must outlive it; an explicit `not_before`
        # (tests) may make one that is already expired.
        shortest = CLOCK_SKEW_ALLOWANCE if request.not_before is None else timedelta(0)
        if request.lifetime <= shortest:
            raise CertificateLifetimeInvalidError(request.lifetime, CLOCK_SKEW_ALLOWANCE)
        # X.509 validity has whole seconds; recording microseconds would let the ledger call a
        # certificate valid for up to a second after it expired.
        not_before = (request.not_before or datetime.now(UTC) - CLOCK_SKEW_ALLOWANCE).replace(microsecond=0)
        not_after = not_before + request.lifetime
        names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(self.spiffe_id(identity, domain))]
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
        if request.kind is CertificateKind.SERVER:
            names += [x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
            usages.insert(0, ExtendedKeyUsageOID.SERVER_AUTH)
        # Most general first, so the RFC 2253 form reads `CN=<identity>,OU=<domain>,O=headwater`.
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, domain),
                x509.NameAttribute(NameOID.COMMON_NAME, identity),
            ]
        )
        is_ec = isinstance(public_key, ec.EllipticCurvePublicKey)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=not is_ec,
                    data_encipherment=False,
                    key_agreement=is_ec,
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
        return SignedCertificate(
            identity=identity,
            domain=domain,
            kind=request.kind,
            serial=certificate.serial_number,
            not_before=not_before,
            not_after=not_after,
            certificate_pem=certificate.public_bytes(serialization.Encoding.PEM),
            public_key_sha256=public_key_sha256(public_key),
        )
