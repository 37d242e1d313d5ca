"""Service identities through the hub: issued by their domain (or the admin), renewed by themselves,
revoked.

Every certificate the API hands out certifies a key pair its owner made and sent as a CSR: the hub
never generates or returns a private key here. Platform identities (the hub admin, the broker, the
hub, and anything of the platform domain) are never a target of these routes: only the CA key's
holder, on the hub's machine, issues, renews or revokes them (`headwater ca ...`); the hub admin may
still revoke a single certificate of one through the API (a leaked key).

Revoking an identity revokes its certificates in the ledger (the hub refuses it at once, the broker
within seconds through its revocation list), removes every ACL it holds and ends its approved grants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from headwater.policies import Requester
from headwater.registry.ca import CertificateLedger, CertificateRecord, SignedCertificate
from headwater.registry.ca.authority import read_signing_request
from headwater.registry.ca.protected import ProtectedIdentities
from headwater.registry.errors import (
    IdentityNotFoundError,
    ProtectedIdentityError,
    RegistryError,
)
from headwater.registry.kafka_acls import delete_identity_acls
from headwater.registry.models import AccessGrant, Identity
from headwater.registry.services.audit import DONE, record_audit
from headwater.registry.streams.access import revoke_approved_grants
from headwater.registry.streams.registration import KafkaAdmin


class IdentityWriteForbiddenError(RegistryError):
    status_code, error_code = 403, 40340

    def __init__(self, caller: str, what: str, who_may: str) -> None:
        super().__init__(f"Identity '{caller}' may not {what}. {who_may}")


_DOMAIN_OR_ADMIN = "Identities of the same domain or the hub admin may."


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
        protected: ProtectedIdentities,
        renewal_grace: timedelta,
    ) -> None:
        self._sessions = sessions
        self._ledger = ledger
        self._kafka_admin = kafka_admin
        self._protected = protected
        self._renewal_grace = renewal_grace

    def issue(self, requester: Requester, name: str, domain: str, csr_pem: str) -> SignedCertificate:
        """A new identity's first certificate, for the key pair of `csr_pem`."""
        if self._protected.protects(name, domain):
            raise ProtectedIdentityError(name, domain)
        if not (requester.is_admin or requester.domain == domain):
            raise IdentityWriteForbiddenError(
                requester.identity, f"issue identities of domain '{domain}'", _DOMAIN_OR_ADMIN
            )
        signed = self._ledger.certify(name, domain, read_signing_request(csr_pem))
        self._record(requester, "identity.issue", name, {"serial": signed.serial_hex, "domain": domain})
        return signed

    def renew(self, requester: Requester, presented_serial: int, name: str, csr_pem: str) -> SignedCertificate:
        """The caller's own new certificate, for the new key pair of `csr_pem`; the certificate it called
        with is revoked after the grace period."""
        record = self._identity(name)
        if self._protected.protects(name, record.domain):
            raise ProtectedIdentityError(name, record.domain)
        if requester.identity != name:
            raise IdentityWriteForbiddenError(
                requester.identity,
                f"renew identity '{name}'",
                "An identity renews only itself, with a CSR for a new key pair.",
            )
        signed = self._ledger.renew_by_request(
            name, read_signing_request(csr_pem), presented_serial, self._renewal_grace
        )
        details = {"serial": signed.serial_hex, "replaces": format(presented_serial, "x")}
        self._record(requester, "identity.renew", name, details)
        return signed

    def revoke(self, requester: Requester, name: str) -> IdentityRecord:
        record = self._identity(name)
        if self._protected.protects(name, record.domain):
            raise ProtectedIdentityError(name, record.domain)
        if not (requester.is_admin or requester.domain == record.domain):
            raise IdentityWriteForbiddenError(requester.identity, f"revoke identity '{name}'", _DOMAIN_OR_ADMIN)
        serials = self._ledger.revoke_identity(name)
        removed = delete_identity_acls(self._kafka_admin(), name)
        with self._sessions.begin() as session:
            grants = revoke_approved_grants(session, AccessGrant.consumer_identity == name)
            details = {"serials": serials, "acls_removed": removed, "grants_revoked": [grant.id for grant in grants]}
            record_audit(session, requester.identity, "identity.revoke", name, DONE, details)
        return self._identity(name)

    def revoke_certificate(self, requester: Requester, serial: str) -> CertificateRecord:
        """Revoke one certificate (a leaked key); its identity keeps the others and may renew.

        The hub admin may revoke any serial, a platform identity's included; others only serials of
        non-platform identities of their own domain."""
        certificate = self._ledger.certificate(serial)
        if not requester.is_admin:
            if self._protected.protects(certificate.identity, certificate.domain):
                raise ProtectedIdentityError(certificate.identity, certificate.domain)
            if requester.domain != certificate.domain:
                raise IdentityWriteForbiddenError(
                    requester.identity, f"revoke certificate {certificate.serial}", _DOMAIN_OR_ADMIN
                )
        revoked = self._ledger.revoke_certificate(certificate.serial)
        self._record(requester, "certificate.revoke", revoked.identity, {"serials": [revoked.serial]})
        return revoked

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
