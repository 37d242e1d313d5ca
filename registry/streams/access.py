"""Read access to streams: a consumer asks with a purpose, the stream's owner decides, the broker enforces.

Approval grants READ + DESCRIBE on the topic and READ on the consumer's group prefix (`<identity>.`);
revocation removes them (the group prefix only when no other stream is still granted) and returns once
the broker refuses the consumer. The ACL change happens before the state is committed, and is undone
if the commit fails, so the database never claims access the broker does not enforce or the reverse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from confluent_kafka.admin import AclBinding
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, sessionmaker

from headwater.policies import PolicyContext, Requester, Scope
from headwater.registry.governance.contexts import stream_policy_view
from headwater.registry.governance.errors import PolicyViolationError
from headwater.registry.governance.gate import PolicyGate
from headwater.registry.governance.schema_tree import schema_tree
from headwater.registry.kafka_acls import (
    consumer_bindings,
    consumer_group_binding,
    consumer_topic_bindings,
    create_acls,
    delete_bindings,
    producer_bindings,
)
from headwater.registry.models import AccessGrant, Stream
from headwater.registry.services.audit import DONE, REFUSED, AuditLog, record_audit
from headwater.registry.services.schema_registry import SchemaRegistry
from headwater.registry.streams.errors import (
    AccessAlreadyOpenError,
    AccessGrantNotFoundError,
    AccessGrantStateError,
    StreamNotActiveError,
    StreamNotFoundError,
    StreamWriteForbiddenError,
)
from headwater.registry.streams.registration import KafkaAdmin
from headwater.registry.streams.state import GrantState, StreamState

_CLOSED_STREAM_STATES = (StreamState.PENDING.value, StreamState.DELETED.value)


@dataclass(frozen=True)
class GrantRecord:
    id: int
    stream: str
    consumer: str
    purpose: str
    state: str
    requested_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    revoked_at: datetime | None


def _record(row: AccessGrant) -> GrantRecord:
    return GrantRecord(
        row.id,
        row.stream,
        row.consumer_identity,
        row.purpose,
        row.state,
        row.requested_at,
        row.decided_at,
        row.decided_by,
        row.revoked_at,
    )


class StreamAccess:
    def __init__(
        self, sessions: sessionmaker[Session], registry: SchemaRegistry, gate: PolicyGate, kafka_admin: KafkaAdmin
    ) -> None:
        self._sessions = sessions
        self._registry = registry
        self._gate = gate
        self._kafka_admin = kafka_admin
        self._audit = AuditLog(sessions)

    def request(self, requester: Requester, stream_name: str, purpose: str) -> GrantRecord:
        """Ask for read access as the calling identity; the access-request policies run first."""
        with self._sessions() as session:
            stream = self._open_stream(session, stream_name, "requesting access")
            view = stream_policy_view(stream)
            value_subject = stream.value_subject
        value = self._registry.latest_live_schema(value_subject)
        context = PolicyContext(
            scope=Scope.ACCESS_REQUEST,
            requester=requester,
            stream=view,
            registered_stream=view,
            schema=schema_tree(value_subject, value) if value is not None else None,
            grant_purpose=purpose.strip() or None,
        )
        with self._sessions() as session:
            decision = self._gate.decide(session, context)
        details = self._gate.audit_details(context, decision)
        if not decision.allowed:
            self._audit.record(requester.identity, "access.request", stream_name, REFUSED, details)
            raise PolicyViolationError(stream_name, decision.violations)
        with self._sessions.begin() as session:
            open_grant = session.scalars(
                select(AccessGrant).where(
                    AccessGrant.stream == stream_name,
                    AccessGrant.consumer_identity == requester.identity,
                    AccessGrant.state.in_([GrantState.REQUESTED.value, GrantState.APPROVED.value]),
                )
            ).first()
            if open_grant is not None:
                raise AccessAlreadyOpenError(requester.identity, stream_name, open_grant.id, open_grant.state)
            row = AccessGrant(
                stream=stream_name,
                consumer_identity=requester.identity,
                purpose=purpose,
                state=GrantState.REQUESTED.value,
                requested_at=datetime.now(UTC),
                details=details,
            )
            session.add(row)
            session.flush()
            record_audit(session, requester.identity, "access.request", stream_name, DONE, details, after=_view(row))
            return _record(row)

    def approve(self, requester: Requester, grant_id: int) -> GrantRecord:
        grant, owner = self._decidable(requester, grant_id, "approved")
        bindings = consumer_bindings(grant.consumer, grant.stream)
        create_acls(self._kafka_admin(), bindings)
        try:
            return self._decide(requester, grant_id, GrantState.APPROVED, "access.approve")
        except Exception:
            delete_bindings(self._kafka_admin(), self._removable(grant.consumer, grant.stream, owner))
            raise

    def deny(self, requester: Requester, grant_id: int) -> GrantRecord:
        self._decidable(requester, grant_id, "denied")
        return self._decide(requester, grant_id, GrantState.DENIED, "access.deny")

    def revoke(self, requester: Requester, grant_id: int) -> GrantRecord:
        """The stream owner, the admin, or the consumer itself ends an approved grant."""
        with self._sessions() as session:
            row = self._grant(session, grant_id)
            stream = session.get(Stream, row.stream)
            owner = stream.owner_identity if stream is not None else None
            grant = _record(row)
        if not (requester.is_admin or requester.identity in (owner, grant.consumer)):
            raise StreamWriteForbiddenError(requester.identity, f"revoke access grant {grant_id}")
        if grant.state != GrantState.APPROVED.value:
            raise AccessGrantStateError(grant_id, grant.state, "revoked", GrantState.APPROVED.value)
        delete_bindings(self._kafka_admin(), self._removable(grant.consumer, grant.stream, owner))
        return self._decide(requester, grant_id, GrantState.REVOKED, "access.revoke")

    def list(self, stream: str | None, consumer: str | None, state: str | None) -> list[GrantRecord]:
        query = select(AccessGrant).order_by(AccessGrant.id)
        if stream is not None:
            query = query.where(AccessGrant.stream == stream)
        if consumer is not None:
            query = query.where(AccessGrant.consumer_identity == consumer)
        if state is not None:
            query = query.where(AccessGrant.state == state.upper())
        with self._sessions() as session:
            return [_record(row) for row in session.scalars(query)]

    # -- helpers -----------------------------------------------------------------------------
    def _open_stream(self, session: Session, name: str, action: str) -> Stream:
        stream = session.get(Stream, name)
        if stream is None or stream.state == StreamState.PENDING.value:
            raise StreamNotFoundError(name)
        if stream.state in _CLOSED_STREAM_STATES:
            raise StreamNotActiveError(name, stream.state, action)
        return stream

    def _grant(self, session: Session, grant_id: int) -> AccessGrant:
        row = session.get(AccessGrant, grant_id)
        if row is None:
            raise AccessGrantNotFoundError(grant_id)
        return row

    def _decidable(self, requester: Requester, grant_id: int, action: str) -> tuple[GrantRecord, str]:
        """The grant, if it waits for a decision and the requester owns its stream (or is the admin)."""
        with self._sessions() as session:
            row = self._grant(session, grant_id)
            stream = self._open_stream(session, row.stream, f"deciding access grant {grant_id}")
            grant, owner = _record(row), stream.owner_identity
        if not (requester.is_admin or requester.identity == owner):
            raise StreamWriteForbiddenError(
                requester.identity, f"decide access to stream '{grant.stream}' (its owner does)"
            )
        if grant.state != GrantState.REQUESTED.value:
            raise AccessGrantStateError(grant_id, grant.state, action, GrantState.REQUESTED.value)
        return grant, owner

    def _decide(self, requester: Requester, grant_id: int, state: GrantState, action: str) -> GrantRecord:
        with self._sessions.begin() as session:
            row = self._grant(session, grant_id)
            before = _view(row)
            now = datetime.now(UTC)
            if state is GrantState.REVOKED:
                row.revoked_at = now
            else:
                row.decided_at, row.decided_by = now, requester.identity
            row.state = state.value
            record_audit(session, requester.identity, action, row.stream, DONE, {}, before=before, after=_view(row))
            return _record(row)

    def _removable(self, consumer: str, stream: str, owner: str | None) -> list[AclBinding]:
        """The consumer's bindings on `stream` that no other right needs: the group prefix serves every
        stream the consumer reads, and DESCRIBE on the topic is also the owner's when it reads its own."""
        others = [grant for grant in self.list(None, consumer, GrantState.APPROVED.value) if grant.stream != stream]
        keep = set(producer_bindings(consumer, stream)) if consumer == owner else set()
        removable = [binding for binding in consumer_topic_bindings(consumer, stream) if binding not in keep]
        return removable if others else [*removable, consumer_group_binding(consumer)]


def revoke_approved_grants(session: Session, *conditions: ColumnElement[bool]) -> list[AccessGrant]:
    """Mark REVOKED, in `session`, the approved grants matching `conditions` (a stream's, an identity's);
    the caller removes the matching ACLs."""
    grants = list(
        session.scalars(select(AccessGrant).where(AccessGrant.state == GrantState.APPROVED.value, *conditions))
    )
    for grant in grants:
        grant.state, grant.revoked_at = GrantState.REVOKED.value, datetime.now(UTC)
    return grants


def _view(row: AccessGrant) -> dict[str, str | None]:
    return {
        "id": str(row.id),
        "consumer": row.consumer_identity,
        "purpose": row.purpose,
        "state": row.state,
        "decided_by": row.decided_by,
    }
