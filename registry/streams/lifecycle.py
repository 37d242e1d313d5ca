"""The end of a stream's life: deprecated with a sunset date and a message consumers see, then deleted.

Deletion, after the sunset, removes every ACL (the owner's and the approved consumers'), soft-deletes
the key and value subjects (their schema ids still resolve for records already written) and marks the
stream DELETED; the topic is deleted only when asked explicitly. ACLs go first: a deletion that fails
half-way leaves the stream DEPRECATED, and running it again finishes it (every step is idempotent)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from headwater.policies import Requester
from headwater.registry.errors import RegistryError
from headwater.registry.kafka_acls import consumer_topic_bindings, delete_bindings, producer_bindings
from headwater.registry.kafka_topics import delete_topic
from headwater.registry.models import AccessGrant, Stream
from headwater.registry.schema_registry_errors import SubjectNotFoundError, SubjectSoftDeletedError
from headwater.registry.services.audit import DONE, record_audit
from headwater.registry.services.schema_registry import SchemaRegistry
from headwater.registry.streams.access import revoke_approved_grants
from headwater.registry.streams.catalog import StreamCatalog, StreamDetail
from headwater.registry.streams.errors import StreamNotActiveError, StreamNotFoundError, StreamWriteForbiddenError
from headwater.registry.streams.registration import KafkaAdmin
from headwater.registry.streams.state import GrantState, StreamState

_DEPRECATABLE = (
    StreamState.REGISTERED.value,
    StreamState.PUBLISHING.value,
    StreamState.CERTIFIED.value,
    StreamState.DEGRADED.value,
)


class SunsetError(RegistryError):
    status_code, error_code = 422, 42235


class StreamLifecycle:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registry: SchemaRegistry,
        catalog: StreamCatalog,
        kafka_admin: KafkaAdmin,
    ) -> None:
        self._sessions = sessions
        self._registry = registry
        self._catalog = catalog
        self._kafka_admin = kafka_admin

    def deprecate(self, requester: Requester, name: str, sunset_at: datetime, message: str) -> StreamDetail:
        if sunset_at.tzinfo is None:
            raise SunsetError("The sunset date has no timezone; give one, e.g. 2027-03-31T00:00:00+00:00.")
        if sunset_at <= datetime.now(UTC):
            raise SunsetError(f"The sunset date {sunset_at.isoformat()} is in the past; give consumers time to move.")
        if not message.strip():
            raise SunsetError("A deprecation needs a message telling consumers what to use instead.")
        with self._sessions.begin() as session:
            row = self._owned(session, requester, name, "deprecate")
            if row.state not in _DEPRECATABLE:
                raise StreamNotActiveError(name, row.state, "deprecation")
            before = {"state": row.state}
            row.state, row.deprecated_at = StreamState.DEPRECATED.value, datetime.now(UTC)
            row.sunset_at, row.deprecation_message, row.updated_at = sunset_at, message, datetime.now(UTC)
            after = {"state": row.state, "sunset_at": sunset_at.isoformat(), "message": message}
            record_audit(session, requester.identity, "stream.deprecate", name, DONE, {}, before, after)
        return self._catalog.detail(name)

    def delete(self, requester: Requester, name: str, delete_topic_too: bool) -> dict[str, object]:
        with self._sessions() as session:
            row = self._owned(session, requester, name, "delete")
            if row.state != StreamState.DEPRECATED.value:
                raise StreamNotActiveError(name, row.state, "deletion (deprecate it with a sunset date first)")
            assert row.sunset_at is not None
            if datetime.now(UTC) < row.sunset_at:
                raise StreamNotActiveError(
                    name, row.state, f"deletion before its sunset at {row.sunset_at.isoformat()}"
                )
            owner, subjects = row.owner_identity, (row.key_subject, row.value_subject)
            consumers = session.scalars(
                select(AccessGrant.consumer_identity).where(
                    AccessGrant.stream == name, AccessGrant.state == GrantState.APPROVED.value
                )
            ).all()
        admin = self._kafka_admin()
        # Topic rights only: group prefixes serve the consumers' other streams too.
        bindings = producer_bindings(owner, name) + [
            binding for consumer in consumers for binding in consumer_topic_bindings(consumer, name)
        ]
        delete_bindings(admin, bindings)
        topic_deleted = delete_topic(admin, name) if delete_topic_too else False
        with self._sessions.begin() as session:
            row = session.get(Stream, name)
            assert row is not None
            revoke_approved_grants(session, AccessGrant.stream == name)
            row.state, row.updated_at = StreamState.DELETED.value, datetime.now(UTC)
            details = {"consumers_revoked": list(consumers), "topic_deleted": topic_deleted}
            record_audit(
                session,
                requester.identity,
                "stream.delete",
                name,
                DONE,
                details,
                {"state": "DEPRECATED"},
                {"state": row.state},
            )
        # The stream is DELETED now, so its subjects are ordinary ones again and may be soft-deleted.
        for subject in subjects:
            try:
                self._registry.delete_subject(subject, permanent=False, actor=requester.identity)
            except (SubjectNotFoundError, SubjectSoftDeletedError):
                pass  # soft-deleted by an earlier run of this deletion
        return {"name": name, "state": StreamState.DELETED.value, "topic_deleted": topic_deleted}

    @staticmethod
    def _owned(session: Session, requester: Requester, name: str, action: str) -> Stream:
        row = session.get(Stream, name)
        if row is None or row.state in (StreamState.PENDING.value, StreamState.DELETED.value):
            raise StreamNotFoundError(name)
        if not (requester.is_admin or requester.identity == row.owner_identity):
            raise StreamWriteForbiddenError(requester.identity, f"{action} stream '{name}' (its owner may)")
        return row
