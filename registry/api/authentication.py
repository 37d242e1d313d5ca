"""Authenticate every request by its client certificate, before anything reads the request's body.

The check used to be a FastAPI dependency, which runs once the body has been read and parsed: a
revoked certificate could still make the hub buffer and decode a body of any size. As the outermost
ASGI middleware it answers an unauthenticated request from its headers alone: a body within the limit
is read and dropped (clients send it whole before reading the answer), a larger one is left unread, and
the connection is closed when the request has a body. Routes get the caller through
`deps.CurrentIdentity`, which reads what this middleware left in the request's scope.

The handshake already refused certificates from other CAs and out of their validity; the check runs
for every request because a keep-alive connection can outlive its certificate, and a revocation must
apply to connections opened before it.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from headwater.policies import Requester
from headwater.registry.api.errors import (
    DATABASE_UNAVAILABLE,
    ClientCertificateAnonymousError,
    ClientCertificateMissingError,
    ClientCertificateNotValidNowError,
    ClientCertificateRevokedError,
    DatabaseUnavailableError,
    declared_body_length,
    error_response,
    has_body,
)
from headwater.registry.ca import CertificateLedger
from headwater.registry.ca.identity_rule import identity_of_subject
from headwater.registry.errors import RegistryError

CALLER_SCOPE_KEY = "headwater.caller"
"""Where the authenticated `Caller` waits in the request's scope."""
logger = logging.getLogger(__name__)


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


class ClientCertificateMiddleware:
    def __init__(self, app: ASGIApp, ledger: CertificateLedger, admin_identity: str, max_body_bytes: int) -> None:
        """`max_body_bytes`: a refused caller's body up to this size is read and dropped before the answer."""
        self.app = app
        self.ledger = ledger
        self.admin_identity = admin_identity
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            # The revocation check reads the database: in the thread pool, off the event loop.
            scope[CALLER_SCOPE_KEY] = await run_in_threadpool(self._authenticate, scope)
        except RegistryError as refused:
            await self._refuse(refused, scope, receive, send)
            return
        except DATABASE_UNAVAILABLE as exc:
            logger.warning("database unavailable", extra={"path": scope["path"], "error": str(exc)})
            await self._refuse(DatabaseUnavailableError(), scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _refuse(self, refusal: RegistryError, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer `refusal` without handing the body to anyone. A body within the limit is read and dropped
        first: most clients send the whole body before they read, and a connection closed under them reads
        as a network error, not as the answer. A larger one is not read: the connection is closed."""
        if has_body(scope):
            await _drop_body(scope, receive, self.max_body_bytes)
        await error_response(refusal, close_connection=has_body(scope))(scope, receive, send)

    def _authenticate(self, scope: Scope) -> Caller:
        certificate = _client_certificate(scope)
        serial = certificate.serial_number
        now = datetime.now(UTC)
        # X.509 validity includes both ends (RFC 5280, 4.1.2.5), as OpenSSL checks it at the handshake.
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise ClientCertificateNotValidNowError(
                serial, certificate.not_valid_before_utc, certificate.not_valid_after_utc
            )
        if self.ledger.is_revoked(serial):
            raise ClientCertificateRevokedError(serial)
        # The broker reads the identity with the same rule (headwater/local/broker_plugins/).
        identity = identity_of_subject(certificate.subject)
        domain = _subject_value(certificate, NameOID.ORGANIZATIONAL_UNIT_NAME)
        if identity is None or domain is None:
            raise ClientCertificateAnonymousError(serial)
        return Caller(identity=identity, domain=domain, serial=serial, is_admin=identity == self.admin_identity)


def _client_certificate(scope: Scope) -> x509.Certificate:
    """The first certificate of the ASGI TLS extension's chain (see `tls.py`)."""
    tls: dict[str, Any] = (scope.get("extensions") or {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    if not chain:
        raise ClientCertificateMissingError()
    return x509.load_pem_x509_certificate(chain[0].encode("ascii"))


def _subject_value(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> str | None:
    attributes = certificate.subject.get_attributes_for_oid(oid)
    if len(attributes) != 1 or not isinstance(attributes[0].value, str):
        return None
    return attributes[0].value


async def _drop_body(scope: Scope, receive: Receive, max_bytes: int) -> None:
    """Read and discard the body while it stays within `max_bytes` (never held: memory stays flat)."""
    declared = declared_body_length(scope)
    if declared is not None and declared > max_bytes:
        return
    received = 0
    while received <= max_bytes:
        message = await receive()
        if message["type"] != "http.request":
            return
        received += len(message.get("body", b""))
        if not message.get("more_body", False):
            return
