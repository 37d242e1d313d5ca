"""Service identities through the hub: issued by their domain (or the admin), renewed, revoked.

Revoking an identity revokes its certificates in the ledger (the hub refuses it at once), removes
every ACL it holds (the broker refuses it on its next request) and ends its approved access grants."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from headwater.policies import Requester
from headwater.registry.ca import CertificateLedger, IssuedCertificate
from headwater.registry.errors import IdentityNotFoundError, RegistryError
from headwater.registry.kafka_acls import delete_identity_acls
from headwater.registry.models import AccessGrant, Identity
from headwater.registry.services.audit import DONE, record_audit
from headwater.registry.streams.access import revoke_approved_grants
from headwater.registry.streams.registration import KafkaAdmin


class IdentityWriteForbiddenError(RegistryError):
    status_code, error_code = 403, 40340

    def __init__(self, caller: str, what: str) -> None:
        super().__init__(f"Identity '{caller}' may not {what}. Identities of the same domain or the hub admin may.")


@dataclass(frozen=True)
class IdentityRecord:
    name: str
    domain: str
    kind: str
    created_at: datetime
    revoked_at: datetime | None


class IdentityService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        ledger: CertificateLedger,
        kafka_admin: KafkaAdmin,
        protected: Collection[str],
    ) -> None:
        """`protected` identities (the hub admin, the broker, the hub) cannot be revoked through the API."""
        self._sessions = sessions
        self._ledger = ledger
        self._kafka_admin = kafka_admin
        self._protected = frozenset(protected)

    def issue(self, requester: Requester, name: str, domain: str) -> IssuedCertificate:
        if not (requester.is_admin or requester.domain == domain):
            raise IdentityWriteForbiddenError(requester.identity, f"issue identities of domain '{domain}'")
        issued = self._ledger.issue(name, domain)
        self._record(requester, "identity.issue", name, {"serial": issued.serial_hex, "domain": domain})
        return issued

    def renew(self, requester: Requester, name: str) -> IssuedCertificate:
        record = self._identity(name)
        if not (requester.is_admin or requester.identity == name or requester.domain == record.domain):
            raise IdentityWriteForbiddenError(requester.identity, f"renew identity '{name}'")
        issued = self._ledger.renew(name)
        self._record(requester, "identity.renew", name, {"serial": issued.serial_hex})
        return issued

    def revoke(self, requester: Requester, name: str) -> IdentityRecord:
        record = self._identity(name)
        if name in self._protected:
            raise IdentityWriteForbiddenError(requester.identity, f"revoke the platform identity '{name}'")
        if not (requester.is_admin or requester.domain == record.domain):
            raise IdentityWriteForbiddenError(requester.identity, f"revoke identity '{name}'")
        serials = self._ledger.revoke_identity(name)
        removed = delete_identity_acls(self._kafka_admin(), name)
        with self._sessions.begin() as session:
            grants = revoke_approved_grants(session, AccessGrant.consumer_identity == name)
            details = {"serials": serials, "acls_removed": removed, "grants_revoked": [grant.id for grant in grants]}
            record_audit(session, requester.identity, "identity.revoke", name, DONE, details)
        return self._identity(name)

    def list(self, domain: str | None) -> list[IdentityRecord]:
        query = select(Identity).order_by(Identity.name)
        if domain is not None:
            query = query.where(Identity.domain == domain)
        with self._sessions() as session:
            return [_record(row) for row in session.scalars(query)]

    def _identity(self, name: str) -> IdentityRecord:
        with self._sessions() as session:
            row = session.get(Identity, name)
            if row is None:
                raise IdentityNotFoundError(name)
            return _record(row)

    def _record(self, requester: Requester, action: str, name: str, details: dict[str, object]) -> None:
        with self._sessions.begin() as session:
            record_audit(session, requester.identity, action, name, DONE, details)


def _record(row: Identity) -> IdentityRecord:
    return IdentityRecord(row.name, row.domain, row.kind, row.created_at, row.revoked_at)
