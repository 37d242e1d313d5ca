"""Dependencies shared by the routes: the hub's collaborators and the authenticated caller."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from cryptography import x509
from cryptography.x509.oid import NameOID
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from headwater.policies import Requester
from headwater.registry.api.errors import (
    ClientCertificateAnonymousError,
    ClientCertificateMissingError,
    ClientCertificateNotValidNowError,
    ClientCertificateRevokedError,
)
from headwater.registry.ca import CertificateLedger
from headwater.registry.ca.identity_rule import identity_of_subject
from headwater.registry.config import RegistrySettings
from headwater.registry.governance.gate import PolicyGate
from headwater.registry.governance.waivers import WaiverBook
from headwater.registry.services.audit import AuditLog
from headwater.registry.services.identities import IdentityService
from headwater.registry.services.schema_registry import SchemaRegistry
from headwater.registry.streams.access import StreamAccess
from headwater.registry.streams.catalog import StreamCatalog
from headwater.registry.streams.certification import StreamCertifier
from headwater.registry.streams.data_rules import DataRulesBook
from headwater.registry.streams.domains import DomainBook
from headwater.registry.streams.jobs import JobCatalog
from headwater.registry.streams.lifecycle import StreamLifecycle
from headwater.registry.streams.manifests import ManifestBook
from headwater.registry.streams.registration import StreamRegistration

Readiness = Callable[[], dict[str, bool]]
"""Named checks of what the hub needs (database, broker); each True when it answers."""


@dataclass(frozen=True)
class HubContext:
    """What `create_app` was built with; kept on `app.state.hub`."""

    settings: RegistrySettings
    sessions: sessionmaker[Session]
    ledger: CertificateLedger
    schema_registry: SchemaRegistry
    policy_gate: PolicyGate
    waivers: WaiverBook
    audit: AuditLog
    domains: DomainBook
    streams: StreamRegistration
    catalog: StreamCatalog
    lifecycle: StreamLifecycle
    jobs: JobCatalog
    manifests: ManifestBook
    data_rules: DataRulesBook
    certifier: StreamCertifier
    access: StreamAccess
    identities: IdentityService
    admin_identity: str
    readiness: Readiness


@dataclass(frozen=True)
class Caller:
    """The identity a request comes from, as its client certificate names it."""

    identity: str
    domain: str
    serial: int
    is_admin: bool

    @property
    def requester(self) -> Requester:
        """The caller as policy rules see it."""
        return Requester(identity=self.identity, domain=self.domain, is_admin=self.is_admin)


async def hub_context(request: Request) -> HubContext:
    # async because it is pure: FastAPI runs sync dependencies in its thread pool, a hop that cost
    # about 2 ms per request on a busy 2-core machine (benchmarks/catalog_search.py).
    context: HubContext = request.app.state.hub
    return context


HubDep = Annotated[HubContext, Depends(hub_context)]


def current_identity(request: Request, hub: HubDep) -> Caller:
    """Authenticate the request by its client certificate.

    The handshake already refused certificates from other CAs and out of their validity; this runs
    for every request because a keep-alive connection can outlive its certificate, and a revocation
    must apply to connections opened before it."""
    certificate = _client_certificate(request)
    serial = certificate.serial_number
    now = datetime.now(UTC)
    # X.509 validity includes both ends (RFC 5280, 4.1.2.5), as OpenSSL checks it at the handshake.
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise ClientCertificateNotValidNowError(
            serial, certificate.not_valid_before_utc, certificate.not_valid_after_utc
        )
    if hub.ledger.is_revoked(serial):
        raise ClientCertificateRevokedError(serial)
    # The broker reads the identity with the same rule (headwater/local/broker_plugins/).
    identity = identity_of_subject(certificate.subject)
    domain = _subject_value(certificate, NameOID.ORGANIZATIONAL_UNIT_NAME)
    if identity is None or domain is None:
        raise ClientCertificateAnonymousError(serial)
    return Caller(identity=identity, domain=domain, serial=serial, is_admin=identity == hub.admin_identity)


CurrentIdentity = Annotated[Caller, Depends(current_identity)]


def _client_certificate(request: Request) -> x509.Certificate:
    """The first certificate of the ASGI TLS extension's chain (see `tls.py`)."""
    tls = request.scope.get("extensions", {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    if not chain:
        raise ClientCertificateMissingError()
    return x509.load_pem_x509_certificate(chain[0].encode("ascii"))


def _subject_value(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> str | None:
    attributes = certificate.subject.get_attributes_for_oid(oid)
    if len(attributes) != 1 or not isinstance(attributes[0].value, str):
        return None
    return attributes[0].value
