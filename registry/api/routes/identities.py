"""Service identities: issue, renew, revoke, list (`/api/v1/identities`)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from headwater.registry.api.deps import CurrentIdentity, HubDep
from headwater.registry.ca import IssuedCertificate
from headwater.registry.services.identities import IdentityRecord

router = APIRouter(tags=["identities"])


class IdentityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The service name, also the certificate CN: 1-63 of a-z, 0-9 and '-'.")
    domain: str


class IssuedCertificatePayload(BaseModel):
    """Shown once: the hub keeps no copy of the key."""

    identity: str
    domain: str
    serial: str
    not_after: datetime
    certificate_pem: str
    private_key_pem: str


def certificate_payload(issued: IssuedCertificate) -> IssuedCertificatePayload:
    return IssuedCertificatePayload(
        identity=issued.identity,
        domain=issued.domain,
        serial=issued.serial_hex,
        not_after=issued.not_after,
        certificate_pem=issued.certificate_pem.decode(),
        private_key_pem=issued.private_key_pem.decode(),
    )


@router.post("/identities", status_code=201)
def issue_identity(body: IdentityRequest, hub: HubDep, caller: CurrentIdentity) -> IssuedCertificatePayload:
    """Create a service identity of a domain (an identity of that domain, or the admin) with a certificate."""
    return certificate_payload(hub.identities.issue(caller.requester, body.name, body.domain))


@router.get("/identities")
def list_identities(hub: HubDep, _caller: CurrentIdentity, domain: str | None = None) -> list[IdentityRecord]:
    return hub.identities.list(domain)


@router.post("/identities/{name}/renew")
def renew_identity(name: str, hub: HubDep, caller: CurrentIdentity) -> IssuedCertificatePayload:
    return certificate_payload(hub.identities.renew(caller.requester, name))


@router.post("/identities/{name}/revoke")
def revoke_identity(name: str, hub: HubDep, caller: CurrentIdentity) -> IdentityRecord:
    """Revoke every certificate, remove every ACL (the broker refuses it next), end its access grants."""
    return hub.identities.revoke(caller.requester, name)
