"""The hub's certificate authority: key material, signing, and the ledger of issued certificates."""

from headwater.registry.ca.authority import (
    CertificateAuthority,
    CertificateKind,
    CertificateRequest,
    IssuedCertificate,
    validate_name,
)
from headwater.registry.ca.ledger import (
    CertificateLedger,
    CertificateRecord,
    CertificateStatus,
    LifetimePolicy,
)

__all__ = [
    "CertificateAuthority",
    "CertificateKind",
    "CertificateLedger",
    "CertificateRecord",
    "CertificateRequest",
    "CertificateStatus",
    "IssuedCertificate",
    "LifetimePolicy",
    "validate_name",
]
