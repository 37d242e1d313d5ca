"""The CA's record of identities and the certificates issued to them, kept in the hub database.

Every certificate the CA signs is recorded here before it is handed out, so the hub can refuse
revoked serials and list what is in circulation.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from headwater.registry.ca.authority import (
    CertificateAuthority,
    CertificateKind,
    CertificateRequest,
    IssuedCertificate,
    validate_name,
)
from headwater.registry.database import single_read_sessions
from headwater.registry.errors import (
    CertificateNotFoundError,
    IdentityDomainMismatchError,
    IdentityKindMismatchError,
    IdentityNotFoundError,
    IdentityRevokedError,
)
from headwater.registry.models import Certificate, Identity


class CertificateStatus(StrEnum):
    VALID = "valid"
    NOT_YET_VALID = "not-yet-valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class CertificateRecord:
    identity: str
    domain: str
    kind: CertificateKind
    serial: str
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None

    def status(self, now: datetime) -> CertificateStatus:
        if self.revoked_at is not None:
            return CertificateStatus.REVOKED
        if now < self.not_before:
            return CertificateStatus.NOT_YET_VALID
        if now >= self.not_after:
            return CertificateStatus.EXPIRED
        return CertificateStatus.VALID


@dataclass(frozen=True)
class LifetimePolicy:
    client: timedelta
    server: timedelta

    def for_kind(self, kind: CertificateKind) -> timedelta:
        return self.server if kind is CertificateKind.SERVER else self.client


class CertificateLedger:
    def __init__(
        self, authority: CertificateAuthority, sessions: sessionmaker[Session], lifetimes: LifetimePolicy
    ) -> None:
        self.authority = authority
        self._sessions = sessions
        self._single_reads = single_read_sessions(sessions)
        self._lifetimes = lifetimes

    def issue(
        self,
        identity: str,
        domain: str,
        kind: CertificateKind = CertificateKind.CLIENT,
        lifetime: timedelta | None = None,
        not_before: datetime | None = None,
    ) -> IssuedCertificate:
        """Issue a certificate, creating the identity on first use."""
        validate_name(identity)
        validate_name(domain)
        try:
            return self._issue(identity, domain, kind, lifetime, not_before)
        except IntegrityError:
            # Another request created the identity first (two registrations naming one new owner):
            # it exists now, so issuing again takes the existing-identity path.
            return self._issue(identity, domain, kind, lifetime, not_before)

    def _issue(
        self,
        identity: str,
        domain: str,
        kind: CertificateKind,
        lifetime: timedelta | None,
        not_before: datetime | None,
    ) -> IssuedCertificate:
        with self._sessions.begin() as session:
            record = session.get(Identity, identity)
            if record is None:
                record = Identity(name=identity, domain=domain, kind=kind.value, created_at=_now())
                session.add(record)
                session.flush()
            elif record.domain != domain:
                raise IdentityDomainMismatchError(identity, record.domain, domain)
            elif record.kind != kind.value:
                raise IdentityKindMismatchError(identity, record.kind, kind.value)
            return self._sign_for(session, record, lifetime, not_before)

    def renew(self, identity: str, lifetime: timedelta | None = None) -> IssuedCertificate:
        """Issue a fresh certificate for an existing, unrevoked identity."""
        with self._sessions.begin() as session:
            record = session.get(Identity, identity)
            if record is None:
                raise IdentityNotFoundError(identity)
            return self._sign_for(session, record, lifetime, None)

    def _sign_for(
        self, session: Session, record: Identity, lifetime: timedelta | None, not_before: datetime | None
    ) -> IssuedCertificate:
        if record.revoked_at is not None:
            raise IdentityRevokedError(record.name)
        kind = CertificateKind(record.kind)
        issued = self.authority.sign(
            CertificateRequest(
                identity=record.name,
                domain=record.domain,
                kind=kind,
                lifetime=lifetime or self._lifetimes.for_kind(kind),
                not_before=not_before,
            )
        )
        session.add(
            Certificate(
                serial=issued.serial_hex,
                identity_name=record.name,
                not_before=issued.not_before,
                not_after=issued.not_after,
                issued_at=_now(),
            )
        )
        return issued

    def revoke_identity(self, identity: str) -> list[str]:
        """Revoke an identity and every certificate it holds; it can never be renewed again."""
        with self._sessions.begin() as session:
            record = session.get(Identity, identity)
            if record is None:
                raise IdentityNotFoundError(identity)
            now = _now()
            record.revoked_at = record.revoked_at or now
            for certificate in record.certificates:
                certificate.revoked_at = certificate.revoked_at or now
            return [certificate.serial for certificate in record.certificates]

    def revoke_certificate(self, serial: str) -> CertificateRecord:
        """Revoke one certificate (say, a leaked key); its identity may still renew."""
        with self._sessions.begin() as session:
            certificate = session.get(Certificate, serial.lower())
            if certificate is None:
                raise CertificateNotFoundError(serial)
            certificate.revoked_at = certificate.revoked_at or _now()
            return _record(certificate)

    def is_revoked(self, serial: int) -> bool:
        # Runs on every request: one column, without loading an ORM object.
        with self._single_reads() as session:
            found = session.execute(
                select(Certificate.revoked_at).where(Certificate.serial == format(serial, "x"))
            ).first()
            return found is None or found.revoked_at is not None

    def list_certificates(self, identity: str | None = None) -> Sequence[CertificateRecord]:
        query = select(Certificate).join(Certificate.identity).order_by(Identity.name, Certificate.not_before)
        if identity is not None:
            query = query.where(Certificate.identity_name == identity)
        with self._sessions() as session:
            return [_record(certificate) for certificate in session.scalars(query)]


def _record(certificate: Certificate) -> CertificateRecord:
    return CertificateRecord(
        identity=certificate.identity_name,
        domain=certificate.identity.domain,
        kind=CertificateKind(certificate.identity.kind),
        serial=certificate.serial,
        not_before=certificate.not_before,
        not_after=certificate.not_after,
        revoked_at=certificate.revoked_at,
    )


def _now() -> datetime:
    return datetime.now(UTC)
