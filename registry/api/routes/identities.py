"""Service identities: issue, renew, revoke, list (`/api/v1/identities`), and revoke one certificate
(`/api/v1/certificates/{serial}/revoke`).

Issuing and renewing take a certificate signing request for a key pair the caller made: the answer
carries the certificate only. The CLI (`headwater identities issue|renew`) and the producer SDK make
the key pair and the CSR where the key will be used."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParameter
from pydantic import BaseModel, ConfigDict, Field

from headwater.registry.api.deps import CurrentIdentity, HubDep
from headwater.registry.ca import CertificateRecord, IssuedCertificate, SignedCertificate
from headwater.registry.services.identities import IdentityRecord

router = APIRouter(tags=["identities"])

_CSR_FIELD = Field(
    description="PEM certificate signing request of a new key pair (EC P-256/P-384 or RSA >= 2048); only its "
    "public key is used: subject, usages and lifetime are set by the hub.",
    max_length=16_384,
)


class IdentityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The service name, also the certificate CN: 1-63 of a-z, 0-9 and '-'.")
    domain: str
    csr_pem: str = _CSR_FIELD


class RenewalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    csr_pem: str = _CSR_FIELD


class SignedCertificatePayload(BaseModel):
    """A certificate for the caller's own key pair; the hub never sees the private key."""

    identity: str
    domain: str
    serial: str
    not_after: datetime
    certificate_pem: str


class IssuedCertificatePayload(SignedCertificatePayload):
    """A certificate with the key pair the hub made for it (a stream owner's first certificate, issued
    by a registration): shown once, the hub keeps no copy of the key."""

    private_key_pem: str


class RevokedCertificatePayload(BaseModel):
    identity: str
    serial: str
    revoked_at: datetime | None


def signed_payload(signed: SignedCertificate) -> SignedCertificatePayload:
    return SignedCertificatePayload(
        identity=signed.identity,
        domain=signed.domain,
        serial=signed.serial_hex,
        not_after=signed.not_after,
        certificate_pem=signed.certificate_pem.decode(),
    )


def certificate_payload(issued: IssuedCertificate) -> IssuedCertificatePayload:
    return IssuedCertificatePayload(
        **signed_payload(issued).model_dump(), private_key_pem=issued.private_key_pem.decode()
    )


@router.post("/identities", status_code=201)
def issue_identity(body: IdentityRequest, hub: HubDep, caller: CurrentIdentity) -> SignedCertificatePayload:
    """Create a service identity of a domain (an identity of that domain, or the admin) and certify its key."""
    return signed_payload(hub.identities.issue(caller.requester, body.name, body.domain, body.csr_pem))


@router.get("/identities")
def list_identities(hub: HubDep, _caller: CurrentIdentity, domain: str | None = None) -> list[IdentityRecord]:
    return hub.identities.list(domain)


@router.post("/identities/{name}/renew")
def renew_identity(name: str, body: RenewalRequest, hub: HubDep, caller: CurrentIdentity) -> SignedCertificatePayload:
    """The caller's own new certificate for a new key pair; the certificate it called with stops working
    after the renewal grace period."""
    return signed_payload(hub.identities.renew(caller.requester, caller.serial, name, body.csr_pem))


@router.post("/identities/{name}/revoke")
def revoke_identity(name: str, hub: HubDep, caller: CurrentIdentity) -> IdentityRecord:
    """Revoke every certificate, remove every ACL (the broker refuses it next), end its access grants."""
    return hub.identities.revoke(caller.requester, name)


@router.post("/certificates/{serial}/revoke")
def revoke_certificate(
    serial: Annotated[str, PathParameter(pattern="^[0-9a-fA-F]{1,40}$", description="Hexadecimal serial.")],
    hub: HubDep,
    caller: CurrentIdentity,
) -> RevokedCertificatePayload:
    """Revoke one certificate (a leaked key): the hub refuses it at once, the broker within seconds."""
    revoked: CertificateRecord = hub.identities.revoke_certificate(caller.requester, serial)
    return RevokedCertificatePayload(identity=revoked.identity, serial=revoked.serial, revoked_at=revoked.revoked_at)
