"""The CA's record of identities and the certificates issued to them, kept in the hub database.

Every certificate the CA signs is recorded here before it is handed out, so the hub can refuse
revoked serials and list what is in circulation.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from headwater.registry.ca.authority import (
    CertifiablePublicKey,
    CertificateAuthority,
    CertificateKind,
    CertificateRequest,
    IssuedCertificate,
    SignedCertificate,
    validate_name,
)
from headwater.registry.ca.revocation_list import (
    REVOCATION_LIST_FILE,
    Revocation,
    revocation_list_lock,
    write_revocation_list,
)
from headwater.registry.database import single_read_sessions
from headwater.registry.errors import (
    CertificateKeyReusedError,
    CertificateNotFoundError,
    IdentityDomainMismatchError,
    IdentityKindMismatchError,
    IdentityNotFoundError,
    IdentityRevokedError,
)
from headwater.registry.models import Certificate, Identity

_LISTED_AFTER_EXPIRY = timedelta(hours=1)
"""Revoked certificates stay on the broker's list this long past expiry (clock skew between hosts)."""


class IssuancePath(StrEnum):
    """How a certificate was issued, kept with it: incident response tells the two apart."""

    HUB_MACHINE = "hub-machine"
    """By the CA key's holder on the hub's machine (`headwater ca`, the local stack)."""
    API = "api"
    """Through the hub's API, for an authenticated caller."""


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
    """When it is (or, for a certificate replaced by a renewal, will be) revoked."""
    issued_via: IssuancePath

    def status(self, now: datetime) -> CertificateStatus:
        if self.revoked_at is not None and self.revoked_at <= now:
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


_Signer = Callable[[CertificateRequest], SignedCertificate]
"""Signs a certificate request: for a key pair made here, or for one an owner sent (its CSR)."""


class CertificateLedger:
    def __init__(
        self,
        authority: CertificateAuthority,
        sessions: sessionmaker[Session],
        lifetimes: LifetimePolicy,
        revocation_list_path: Path | None = None,
    ) -> None:
        """`revocation_list_path` defaults to `revocations.txt` beside the CA's files."""
        self.authority = authority
        self._sessions = sessions
        self._single_reads = single_read_sessions(sessions)
        self._lifetimes = lifetimes
        self.revocation_list_path = revocation_list_path or authority.folder / REVOCATION_LIST_FILE

    def issue(
        self,
        identity: str,
        domain: str,
        kind: CertificateKind = CertificateKind.CLIENT,
        lifetime: timedelta | None = None,
        not_before: datetime | None = None,
        via: IssuancePath = IssuancePath.HUB_MACHINE,
    ) -> IssuedCertificate:
        """Issue a certificate with a key pair made here, creating the identity on first use."""
        issued = self._issue(identity, domain, kind, via, self.authority.sign, lifetime, not_before)
        assert isinstance(issued, IssuedCertificate)
        return issued

    def certify(self, identity: str, domain: str, public_key: CertifiablePublicKey) -> SignedCertificate:
        """Issue a client certificate for a key pair its owner made (first issuance through the API)."""
        return self._issue(
            identity,
            domain,
            CertificateKind.CLIENT,
            IssuancePath.API,
            lambda request: self.authority.certify(request, public_key),
        )

    def _issue(
        self,
        identity: str,
        domain: str,
        kind: CertificateKind,
        via: IssuancePath,
        sign: _Signer,
        lifetime: timedelta | None = None,
        not_before: datetime | None = None,
    ) -> SignedCertificate:
        validate_name(identity)
        validate_name(domain)
        try:
            return self._issue_once(identity, domain, kind, via, sign, lifetime, not_before)
        except IntegrityError:
            # Another request created the identity first (two registrations naming one new owner):
            # it exists now, so issuing again takes the existing-identity path. A reused key
            # (the unique fingerprint) fails the same way again and is reported as such.
            return self._issue_once(identity, domain, kind, via, sign, lifetime, not_before)

    def _issue_once(
        self,
        identity: str,
        domain: str,
        kind: CertificateKind,
        via: IssuancePath,
        sign: _Signer,
        lifetime: timedelta | None,
        not_before: datetime | None,
    ) -> SignedCertificate:
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
            return self._sign_for(session, record, via, sign, lifetime, not_before)

    def renew(self, identity: str, lifetime: timedelta | None = None) -> IssuedCertificate:
        """Issue a fresh certificate and key pair for an existing, unrevoked identity (the hub's machine)."""
        with self._sessions.begin() as session:
            record = self._existing(session, identity)
            issued = self._sign_for(session, record, IssuancePath.HUB_MACHINE, self.authority.sign, lifetime)
        assert isinstance(issued, IssuedCertificate)
        return issued

    def renew_by_request(
        self, identity: str, public_key: CertifiablePublicKey, replaced_serial: int, grace: timedelta
    ) -> SignedCertificate:
        """Certify the identity's new key pair and revoke the certificate it renewed, `grace` from now
        (time for its owner to reconnect with the new one)."""
        try:
            with self._sessions.begin() as session:
                record = self._existing(session, identity)
                signed = self._sign_for(
                    session, record, IssuancePath.API, lambda request: self.authority.certify(request, public_key)
                )
                replaced = session.get(Certificate, format(replaced_serial, "x"))
                if replaced is not None and replaced.identity_name == identity:
                    revoke_at = _now() + grace
                    replaced.revoked_at = min(replaced.revoked_at or revoke_at, revoke_at)
        except IntegrityError as exc:
            raise CertificateKeyReusedError() from exc
        self.publish_revocations()
        return signed

    def _existing(self, session: Session, identity: str) -> Identity:
        record = session.get(Identity, identity)
        if record is None:
            raise IdentityNotFoundError(identity)
        return record

    def _sign_for(
        self,
        session: Session,
        record: Identity,
        via: IssuancePath,
        sign: _Signer,
        lifetime: timedelta | None = None,
        not_before: datetime | None = None,
    ) -> SignedCertificate:
        if record.revoked_at is not None:
            raise IdentityRevokedError(record.name)
        kind = CertificateKind(record.kind)
        signed = sign(
            CertificateRequest(
                identity=record.name,
                domain=record.domain,
                kind=kind,
                lifetime=lifetime if lifetime is not None else self._lifetimes.for_kind(kind),
                not_before=not_before,
            )
        )
        reused = session.execute(
            select(Certificate.serial).where(Certificate.public_key_sha256 == signed.public_key_sha256)
        ).first()
        if reused is not None:
            raise CertificateKeyReusedError()
        session.add(
            Certificate(
                serial=signed.serial_hex,
                identity_name=record.name,
                not_before=signed.not_before,
                not_after=signed.not_after,
                issued_at=_now(),
                issued_via=via.value,
                public_key_sha256=signed.public_key_sha256,
            )
        )
        return signed

    def revoke_identity(self, identity: str) -> list[str]:
        """Revoke an identity and every certificate it holds; it can never be renewed again."""
        with self._sessions.begin() as session:
            record = self._existing(session, identity)
            now = _now()
            record.revoked_at = record.revoked_at or now
            for certificate in record.certificates:
                certificate.revoked_at = min(certificate.revoked_at or now, now)
            serials = [certificate.serial for certificate in record.certificates]
        self.publish_revocations()
        return serials

    def revoke_certificate(self, serial: str) -> CertificateRecord:
        """Revoke one certificate (say, a leaked key); its identity may still renew."""
        with self._sessions.begin() as session:
            certificate = _existing_certificate(session, serial)
            now = _now()
            certificate.revoked_at = min(certificate.revoked_at or now, now)
            record = _record(certificate)
        self.publish_revocations()
        return record

    def certificate(self, serial: str) -> CertificateRecord:
        with self._sessions() as session:
            return _record(_existing_certificate(session, serial))

    def is_revoked(self, serial: int) -> bool:
        """True for a serial revoked by now, or never issued by this ledger."""
        # Runs on every request: one column, without loading an ORM object.
        with self._single_reads() as session:
            found = session.execute(
                select(Certificate.revoked_at).where(Certificate.serial == format(serial, "x"))
            ).first()
            return found is None or (found.revoked_at is not None and found.revoked_at <= _now())

    def publish_revocations(self) -> bool:
        """Rewrite the broker's revocation list from the ledger; True when it changed.

        Every revocation calls it after its commit; the hub also calls it every few seconds, so a
        process that died between its commit and this write is made good."""
        path = self.revocation_list_path
        with revocation_list_lock(path):
            with self._single_reads() as session:
                rows = session.execute(
                    select(Certificate.serial, Certificate.revoked_at).where(
                        Certificate.revoked_at.is_not(None), Certificate.not_after > _now() - _LISTED_AFTER_EXPIRY
                    )
                ).all()
            return write_revocation_list(path, [Revocation(row.serial, row.revoked_at) for row in rows])

    def list_certificates(self, identity: str | None = None) -> Sequence[CertificateRecord]:
        query = select(Certificate).join(Certificate.identity).order_by(Identity.name, Certificate.not_before)
        if identity is not None:
            query = query.where(Certificate.identity_name == identity)
        with self._sessions() as session:
            return [_record(certificate) for certificate in session.scalars(query)]


def _existing_certificate(session: Session, serial: str) -> Certificate:
    certificate = session.get(Certificate, serial.lower())
    if certificate is None:
        raise CertificateNotFoundError(serial)
    return certificate


def _record(certificate: Certificate) -> CertificateRecord:
    return CertificateRecord(
        identity=certificate.identity_name,
        domain=certificate.identity.domain,
        kind=CertificateKind(certificate.identity.kind),
        serial=certificate.serial,
        not_before=certificate.not_before,
        not_after=certificate.not_after,
        revoked_at=certificate.revoked_at,
        issued_via=IssuancePath(certificate.issued_via),
    )


def _now() -> datetime:
    return datetime.now(UTC)
