"""The append-only audit log: record a change in the transaction that makes it, read entries back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from headwater.registry.models import AuditEntry

DONE = "done"
REFUSED = "refused"
MAX_PAGE = 500


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    outcome: str
    details: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def record_audit(
    session: Session,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    details: dict[str, Any],
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an entry to `session`: it is stored only if the session's transaction commits, with the change."""
    session.add(
        AuditEntry(
            at=datetime.now(UTC),
            actor=actor,
            action=action,
            target=target,
            outcome=outcome,
            details=details,
            before=before,
            after=after,
        )
    )


class AuditLog:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record(self, actor: str, action: str, target: str, outcome: str, details: dict[str, Any]) -> None:
        """Record in a transaction of its own: for refusals, whose change was rolled back."""
        with self._sessions.begin() as session:
            record_audit(session, actor, action, target, outcome, details)

    def entries(
        self,
        target: str | None = None,
        action: str | None = None,
        actor: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[AuditRecord]:
        """Newest first; pass the smallest id of a page as `before_id` for the next one."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(min(limit, MAX_PAGE))
        if target is not None:
            query = query.where(AuditEntry.target == target)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        if actor is not None:
            query = query.where(AuditEntry.actor == actor)
        if before_id is not None:
            query = query.where(AuditEntry.id < before_id)
        with self._sessions() as session:
            return [
                AuditRecord(
                    row.id, row.at, row.actor, row.action, row.target, row.outcome, row.details, row.before, row.after
                )
                for row in session.scalars(query)
            ]
