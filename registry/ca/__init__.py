"""The hub's certificate authority: key material, signing, and the ledger of issued certificates."""

from headwater.registry.ca.authority import (
    CertificateAuthority,
    CertificateKind,
    CertificateRequest,
    IssuedCertificate,
    SignedCertificate,
    validate_name,
)
from headwater.registry.ca.ledger import (
    CertificateLedger,
    CertificateRecord,
    CertificateStatus,
    IssuancePath,
    LifetimePolicy,
)

__all__ = [
    "CertificateAuthority",
    "CertificateKind",
    "CertificateLedger",
    "CertificateRecord",
    "CertificateRequest",
    "CertificateStatus",
    "IssuancePath",
    "IssuedCertificate",
    "LifetimePolicy",
    "SignedCertificate",
    "validate_name",
]
