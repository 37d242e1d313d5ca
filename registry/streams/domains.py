"""Domains: created by the hub admin, each owned by one team; a stream's name starts with its domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from headwater.registry.ca.authority import validate_name
from headwater.registry.models import Domain
from headwater.registry.services.audit import DONE, record_audit
from headwater.registry.streams.errors import DomainAlreadyExistsError


@dataclass(frozen=True)
class DomainRecord:
    name: str
    owning_team: str
    contact: str
    created_at: datetime
    created_by: str


def _record(row: Domain) -> DomainRecord:
    return DomainRecord(row.name, row.owning_team, row.contact, row.created_at, row.created_by)


class DomainBook:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def create(self, name: str, owning_team: str, contact: str, actor: str) -> DomainRecord:
        validate_name(name)
        try:
            with self._sessions.begin() as session:
                if session.get(Domain, name) is not None:
                    raise DomainAlreadyExistsError(name)
                row = Domain(
                    name=name, owning_team=owning_team, contact=contact, created_at=datetime.now(UTC), created_by=actor
                )
                session.add(row)
                after = {"owning_team": owning_team, "contact": contact}
                record_audit(session, actor, "domain.create", name, DONE, {}, after=after)
                return _record(row)
        except IntegrityError as exc:
            raise DomainAlreadyExistsError(name) from exc

    def list(self) -> list[DomainRecord]:
        with self._sessions() as session:
            return [_record(row) for row in session.scalars(select(Domain).order_by(Domain.name))]
