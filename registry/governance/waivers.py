"""Waivers: the hub admin excuses one rule for one subject or stream until a given time, audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from headwater.policies import PolicySet, Waiver, WaiverError, validate_waiver
from headwater.registry.governance.errors import WaiverNotFoundError, WaiverRefusedError
from headwater.registry.models import PolicyWaiver
from headwater.registry.services.audit import DONE, record_audit
from headwater.registry.services.subjects import validate_subject


@dataclass(frozen=True)
class StoredWaiver:
    id: int
    rule_id: str
    target: str
    expires_at: datetime
    granted_by: str
    granted_at: datetime
    reason: str
    revoked_at: datetime | None
    revoked_by: str | None

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


def _stored(row: PolicyWaiver) -> StoredWaiver:
    return StoredWaiver(
        row.id,
        row.rule_id,
        row.target,
        row.expires_at,
        row.granted_by,
        row.granted_at,
        row.reason,
        row.revoked_at,
        row.revoked_by,
    )


def _audit_view(waiver: StoredWaiver) -> dict[str, str | int | None]:
    return {
        "id": waiver.id,
        "rule_id": waiver.rule_id,
        "target": waiver.target,
        "expires_at": waiver.expires_at.isoformat(),
        "granted_by": waiver.granted_by,
        "reason": waiver.reason,
        "revoked_at": waiver.revoked_at.isoformat() if waiver.revoked_at else None,
        "revoked_by": waiver.revoked_by,
    }


class WaiverBook:
    def __init__(self, sessions: sessionmaker[Session], policy_set: PolicySet) -> None:
        self._sessions = sessions
        self._policy_set = policy_set

    def grant(self, rule_id: str, target: str, expires_at: datetime, reason: str, granted_by: str) -> StoredWaiver:
        """Refuses a rule that is not in force, an expiry in the past or without timezone, an empty reason."""
        now = datetime.now(UTC)
        validate_subject(target)
        if not reason.strip():
            raise WaiverRefusedError(f"Waiver of rule '{rule_id}' for '{target}' needs a reason; say why it is safe.")
        try:
            validate_waiver(Waiver(rule_id, target, expires_at, granted_by, reason), self._policy_set, now)
        except WaiverError as exc:
            raise WaiverRefusedError(str(exc)) from exc
        with self._sessions.begin() as session:
            row = PolicyWaiver(
                rule_id=rule_id,
                target=target,
                expires_at=expires_at,
                granted_by=granted_by,
                granted_at=now,
                reason=reason,
            )
            session.add(row)
            session.flush()
            waiver = _stored(row)
            record_audit(session, granted_by, "policy.waiver.grant", target, DONE, {}, after=_audit_view(waiver))
            return waiver

    def revoke(self, waiver_id: int, revoked_by: str) -> StoredWaiver:
        """Ends a waiver now; revoking one already revoked or expired changes nothing and is not an error."""
        with self._sessions.begin() as session:
            row = session.get(PolicyWaiver, waiver_id)
            if row is None:
                raise WaiverNotFoundError(waiver_id)
            before = _stored(row)
            if before.revoked_at is not None:
                return before
            row.revoked_at, row.revoked_by = datetime.now(UTC), revoked_by
            session.flush()
            after = _stored(row)
            record_audit(
                session,
                revoked_by,
                "policy.waiver.revoke",
                row.target,
                DONE,
                {},
                before=_audit_view(before),
                after=_audit_view(after),
            )
            return after

    def list(self, include_inactive: bool) -> list[StoredWaiver]:
        now = datetime.now(UTC)
        with self._sessions() as session:
            waivers = [_stored(row) for row in session.scalars(select(PolicyWaiver).order_by(PolicyWaiver.id))]
        return [waiver for waiver in waivers if include_inactive or waiver.is_active(now)]
