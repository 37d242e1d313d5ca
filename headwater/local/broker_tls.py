"""The broker's TLS material: its hub-CA server certificate (client listener, rotated often), the
admin identity, and a separate internal CA for the loopback controller listener (long-lived, never
trusted by clients)."""

import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509

from headwater.producers.connection import MtlsConnection
from headwater.registry.ca import (
    CertificateAuthority,
    CertificateKind,
    CertificateLedger,
    CertificateRequest,
    IssuedCertificate,
)
from headwater.registry.ca.pem_files import PRIVATE_FILE_MODE, write_pem_file

INTERNAL_CERTIFICATE_LIFETIME = timedelta(days=3650)
RENEW_WHEN_REMAINING_BELOW = 1 / 3
"""Renew a certificate once less than this fraction of its lifetime remains."""


@dataclass(frozen=True)
class CertificateFiles:
    certificate: Path
    key: Path

    @classmethod
    def of_identity(cls, folder: Path, identity: str) -> "CertificateFiles":
        """The files `IssuedCertificate.write(folder)` writes for `identity`."""
        return cls(folder / f"{identity}.crt", folder / f"{identity}.key")

    def load(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.certificate.read_bytes())

    def exists(self) -> bool:
        return self.certificate.is_file() and self.key.is_file()


def needs_renewal(files: CertificateFiles, authority: CertificateAuthority, now: datetime) -> bool:
    """True when the files are missing, from another CA, or near or past expiry."""
    if not files.exists():
        return True
    certificate = files.load()
    if certificate.issuer != authority.certificate.subject:
        return True
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    return certificate.not_valid_after_utc - now < lifetime * RENEW_WHEN_REMAINING_BELOW


def ensure_identity_files(
    ledger: CertificateLedger, folder: Path, identity: str, domain: str, kind: CertificateKind
) -> tuple[CertificateFiles, IssuedCertificate | None]:
    """Keep `<folder>/<identity>.crt|.key` valid; returns the newly issued certificate, if any."""
    files = CertificateFiles.of_identity(folder, identity)
    if not needs_renewal(files, ledger.authority, datetime.now(UTC)):
        return files, None
    issued = ledger.issue(identity, domain, kind)
    issued.write(folder)
    return files, issued


def write_keystore(path: Path, issued_certificate_pem: bytes, private_key_pem: bytes) -> Path:
    """A PEM keystore as Kafka reads it: one PKCS#8 key and the certificate chain in one file."""
    return write_pem_file(path, private_key_pem + issued_certificate_pem, PRIVATE_FILE_MODE)


def ensure_internal_controller_keystore(folder: Path, broker_identity: str) -> tuple[Path, Path]:
    """The controller listener's own CA and keystore, created once and kept for years: the controller
    channel cannot be re-keyed without a restart, and only the broker itself ever connects to it."""
    ca_dir = folder / "internal-ca"
    keystore = folder / "controller-keystore.pem"
    authority = CertificateAuthority.load_or_create(ca_dir, trust_domain="headwater-internal")
    if not keystore.is_file():
        issued = authority.sign(
            CertificateRequest(
                identity=broker_identity,
                domain="controller",
                kind=CertificateKind.SERVER,
                lifetime=INTERNAL_CERTIFICATE_LIFETIME,
            )
        )
        write_keystore(keystore, issued.certificate_pem, issued.private_key_pem)
    return keystore, authority.certificate_path


def served_certificate(port: int, connection: MtlsConnection) -> x509.Certificate:
    """The certificate the broker presents to a brand-new TLS connection on 127.0.0.1:`port`."""
    context = ssl.create_default_context(cafile=str(connection.ca_file))
    context.load_cert_chain(str(connection.certificate_file), str(connection.key_file))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            der = tls.getpeercert(binary_form=True)
    if der is None:
        raise ssl.SSLError("the broker presented no certificate")
    return x509.load_der_x509_certificate(der)
