"""The hub's FastAPI application: routers under `/api/v1`, every route behind a client certificate."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session, sessionmaker

from headwater.registry.api.authentication import ClientCertificateMiddleware
from headwater.registry.api.deps import HubContext, Readiness, current_identity
from headwater.registry.api.encoded_slashes import EncodedSlashMiddleware
from headwater.registry.api.errors import install_error_handlers
from headwater.registry.api.prefix import API_PREFIX
from headwater.registry.api.request_body import RequestBodyMiddleware
from headwater.registry.api.routes import (
    access,
    audit,
    catalog,
    certification,
    health,
    identities,
    identity,
    policies,
    schema_registry,
)
from headwater.registry.ca import CertificateLedger
from headwater.registry.ca.protected import ProtectedIdentities
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
from headwater.registry.streams.drift import DriftAuditor
from headwater.registry.streams.jobs import JobCatalog
from headwater.registry.streams.kafka_access import KafkaAccess
from headwater.registry.streams.lifecycle import StreamLifecycle
from headwater.registry.streams.manifests import ManifestBook
from headwater.registry.streams.periodic import PeriodicTask
from headwater.registry.streams.registration import StreamRegistration

REVOCATION_LIST_CHECK_S = 5.0


class ErrorPayload(BaseModel):
    """Every error answer: a stable code and a message saying what is wrong and how to fix it; some add
    details (e.g. `violations` for a policy refusal)."""

    model_config = ConfigDict(extra="allow")

    error_code: int
    message: str


# Documented on every route, replacing FastAPI's default 422 body: every error is this shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorPayload, "description": "Refused: the message says why and what to do."},
    "5XX": {"model": ErrorPayload, "description": "The hub or the broker failed; nothing was left half-done."},
}

# On the router rather than on each route, so a route added later cannot forget authentication.
api_router = APIRouter(dependencies=[Depends(current_identity)], responses=ERROR_RESPONSES)
api_router.include_router(health.router)
api_router.include_router(identity.router)
api_router.include_router(policies.router)
api_router.include_router(audit.router)
api_router.include_router(catalog.router)
api_router.include_router(access.router)
api_router.include_router(certification.router)
api_router.include_router(identities.router)


@api_router.get("/openapi.json", include_in_schema=False)
def openapi_document(request: Request) -> dict[str, Any]:
    """The OpenAPI document, behind the client-certificate check like every other route."""
    document: dict[str, Any] = request.app.openapi()
    return document


# Confluent clients call the registry at the root paths, not under /api/v1.
confluent_router = APIRouter(dependencies=[Depends(current_identity)], responses=ERROR_RESPONSES)
confluent_router.include_router(schema_registry.router)


def create_app(
    settings: RegistrySettings,
    sessions: sessionmaker[Session],
    ledger: CertificateLedger,
    gate: PolicyGate,
    admin_identity: str,
    readiness: Readiness,
    kafka: KafkaAccess,
) -> FastAPI:
    """`gate` holds the policies loaded at start; `admin_identity` names the identity whose callers get
    `Caller.is_admin`; `kafka` reaches the broker as the admin."""
    schema_registry = SchemaRegistry(sessions, gate)
    protected = ProtectedIdentities(frozenset((admin_identity, *kafka.platform_identities)), settings.platform_domain)
    registration = StreamRegistration(
        sessions,
        schema_registry,
        gate,
        ledger,
        kafka.admin,
        protected,
        lease=timedelta(seconds=settings.registration_lease_s),
        faults=settings.fault_plan,
    )
    manifests = ManifestBook(sessions)
    certifier = StreamCertifier(sessions, kafka.admin, kafka.client_config, manifests, admin_identity)
    auditor = DriftAuditor(sessions, certifier, settings.drift_content_interval_s)
    background = [
        # Registrations left PENDING by a hub that died are undone at start, then whenever a lease runs out.
        PeriodicTask("stream-reconciler", registration.reconcile, max(1.0, settings.registration_lease_s / 4)),
        PeriodicTask("drift-auditor", auditor.run_once, settings.drift_check_interval_s),
        # Every revocation rewrites the broker's list itself; this makes good a writer that died first.
        PeriodicTask("revocation-list", ledger.publish_revocations, REVOCATION_LIST_CHECK_S),
    ]

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for task in background:
            task.start()
        yield
        for task in background:
            task.stop()

    # FastAPI serves its docs and OpenAPI document outside the routers, where no certificate check
    # runs; a revoked certificate could still read them, so they are off (`/api/v1/openapi.json`
    # serves the document behind the check).
    app = FastAPI(title="headwater hub", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    catalog = StreamCatalog(sessions, kafka.admin, kafka.log_dirs)
    app.state.hub = HubContext(
        settings=settings,
        sessions=sessions,
        ledger=ledger,
        schema_registry=schema_registry,
        policy_gate=gate,
        waivers=WaiverBook(sessions, gate.policy_set),
        audit=AuditLog(sessions),
        domains=DomainBook(sessions),
        streams=registration,
        catalog=catalog,
        lifecycle=StreamLifecycle(sessions, schema_registry, catalog, kafka.admin),
        jobs=JobCatalog(sessions),
        manifests=manifests,
        data_rules=DataRulesBook(sessions, schema_registry),
        certifier=certifier,
        access=StreamAccess(sessions, schema_registry, gate, kafka.admin),
        identities=IdentityService(
            sessions,
            ledger,
            kafka.admin,
            protected,
            renewal_grace=timedelta(seconds=settings.renewal_grace_s),
        ),
        admin_identity=admin_identity,
        readiness=readiness,
    )
    install_error_handlers(app)
    # The last added runs first: authentication before anything reads the body, then the body read
    # once within its limit and checked, then routing.
    app.add_middleware(EncodedSlashMiddleware)
    app.add_middleware(
        RequestBodyMiddleware,
        max_body_bytes=settings.max_request_body_bytes,
        max_manifest_body_bytes=settings.max_manifest_body_bytes,
    )
    app.add_middleware(
        ClientCertificateMiddleware,
        ledger=ledger,
        admin_identity=admin_identity,
        max_body_bytes=settings.max_request_body_bytes,
    )
    app.include_router(api_router, prefix=API_PREFIX)
    app.include_router(confluent_router)
    return app
