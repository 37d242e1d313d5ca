"""Dependencies shared by the routes: the hub's collaborators and the authenticated caller."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from headwater.registry.api.authentication import CALLER_SCOPE_KEY, Caller
from headwater.registry.api.errors import ClientCertificateMissingError
from headwater.registry.ca import CertificateLedger
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


async def hub_context(request: Request) -> HubContext:
    # async because it is pure: FastAPI runs sync dependencies in its thread pool, a hop that cost
    # about 2 ms per request on a busy 2-core machine (benchmarks/catalog_search.py).
    context: HubContext = request.app.state.hub
    return context


HubDep = Annotated[HubContext, Depends(hub_context)]


async def current_identity(request: Request) -> Caller:
    """The caller `authentication.ClientCertificateMiddleware` authenticated before the body was read.

    Async because it is pure (no thread-pool hop). Without the middleware there is no caller, and every
    route refuses: a route cannot be reached unauthenticated by mistake."""
    caller: Caller | None = request.scope.get(CALLER_SCOPE_KEY)
    if caller is None:
        raise ClientCertificateMissingError()
    return caller


CurrentIdentity = Annotated[Caller, Depends(current_identity)]
