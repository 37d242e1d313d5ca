"""Register a domain stream: a saga over the database, the schema registry, the CA and the broker.

Kafka, ACLs and the database cannot share a transaction, so the registration first commits a PENDING
row (its primary key decides races: a loser stops there and never touches the winner's topic), then
runs each step, recording it in the row *before* acting so that whatever happens next, the row names
everything that may exist. A failing step undoes the recorded ones in reverse order; a hub that dies
mid-way leaves a PENDING row whose lease runs out, and the reconciler undoes it the same way. No
database transaction stays open across a broker call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from confluent_kafka.admin import AdminClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from headwater.policies import Requester, Violation
from headwater.registry.ca import CertificateLedger, IssuancePath, IssuedCertificate
from headwater.registry.ca.ledger import CertificateStatus
from headwater.registry.ca.protected import ProtectedIdentities
from headwater.registry.errors import IdentityRevokedError, ProtectedIdentityError, RegistryError
from headwater.registry.governance.contexts import stream_registration_contexts
from headwater.registry.governance.errors import PolicyViolationError
from headwater.registry.governance.gate import PolicyGate
from headwater.registry.governance.schema_tree import schema_tree
from headwater.registry.kafka_acls import create_acls, delete_bindings, producer_bindings
from headwater.registry.kafka_topics import create_stream_topic, delete_topic, topic_exists
from headwater.registry.models import Domain, Identity, Stream, StreamTag, SubjectVersion
from headwater.registry.schema_registry_errors import InvalidCompatibilityLevelError
from headwater.registry.schemas import AvroSchema
from headwater.registry.schemas.compatibility import CompatibilityLevel
from headwater.registry.services.audit import DONE, REFUSED, AuditLog, record_audit
from headwater.registry.services.schema_registry import SchemaRegistry, SchemaSubmission, parse_submission
from headwater.registry.streams.data_rules import check_data_rules
from headwater.registry.streams.definition import StreamDefinition
from headwater.registry.streams.errors import (
    DomainNotFoundError,
    OwnerOutsideDomainError,
    RegistrationStepFailedError,
    StreamAlreadyExistsError,
    StreamSubjectsInUseError,
    StreamTopicExistsError,
    StreamWriteForbiddenError,
)
from headwater.registry.streams.fields import refuse_unstorable_fields
from headwater.registry.streams.names import split_stream_name
from headwater.registry.streams.state import StreamState

logger = logging.getLogger(__name__)

HUB_ACTOR = "headwater"
"""The actor of changes the hub makes on its own (the reconciler)."""

OWNER_IDENTITY, SCHEMAS, TOPIC, ACLS, CATALOG = "owner_identity", "schemas", "topic", "acls", "catalog"
STEPS = ("policies", OWNER_IDENTITY, SCHEMAS, TOPIC, ACLS, CATALOG)
"""Every step, in order; those that create something outside the row are recorded before they act."""
FAULTS = ("fail", "fail-after", "crash", "hang")

KafkaAdmin = Callable[[], AdminClient]


class InjectedFaultError(RegistryError):
    """Raised where `faults` asks a step to fail (tests of the compensation)."""


class SimulatedCrash(BaseException):  # noqa: N818 - it stands for the process dying, not an error to handle
    """Raised where `faults` asks for a crash: no compensation runs, as when the hub process dies."""


@dataclass(frozen=True)
class RegisteredStream:
    name: str
    state: str
    owner: str
    key_schema_id: int
    value_schema_id: int
    issued_certificate: IssuedCertificate | None
    """The owner's new certificate and key when the registration created them: shown once."""


@dataclass(frozen=True)
class _Plan:
    definition: StreamDefinition
    domain: str
    entity: str
    owner: str
    key: AvroSchema
    value: AvroSchema


class StreamRegistration:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        registry: SchemaRegistry,
        gate: PolicyGate,
        ledger: CertificateLedger,
        kafka_admin: KafkaAdmin,
        protected: ProtectedIdentities,
        lease: timedelta = timedelta(minutes=2),
        faults: Mapping[str, str] | None = None,
    ) -> None:
        """`faults` maps a step to `fail` (before it acts), `fail-after`, `crash` or `hang` (after it acted): tests."""
        self._sessions = sessions
        self._registry = registry
        self._gate = gate
        self._ledger = ledger
        self._kafka_admin = kafka_admin
        self._protected = protected
        self._lease = lease
        self._faults = dict(faults or {})
        unknown = {
            f"{step}:{fault}" for step, fault in self._faults.items() if step not in STEPS or fault not in FAULTS
        }
        if unknown:
            raise ValueError(f"unknown fault injection {sorted(unknown)}; steps {STEPS}, faults {FAULTS}")
        self._audit = AuditLog(sessions)

    # -- registration ------------------------------------------------------------------------
    def register(self, requester: Requester, definition: StreamDefinition) -> RegisteredStream:
        plan = self._plan(requester, definition)
        self._reserve(requester, plan)
        step = "policies"
        try:
            self._check_policies(requester, plan)
            step = OWNER_IDENTITY
            issued = self._ensure_owner_certificate(plan)
            step = SCHEMAS
            key_id, value_id = self._register_schemas(requester, plan)
            step = TOPIC
            self._create_topic(plan)
            step = ACLS
            self._grant_owner(plan)
            step = CATALOG
            self._finish(requester, plan)
        except Exception as exc:
            undone: list[str] | None
            try:
                undone = self.undo(plan.definition.name, requester.identity)
            except Exception as undo_error:  # the broker or database went away too: the reconciler retries
                logger.warning(
                    "undoing a failed registration failed",
                    extra={"stream": plan.definition.name, "error": str(undo_error)},
                )
                undone = None
            reason = str(exc) if isinstance(exc, RegistryError) else f"{type(exc).__name__}: {exc}"
            self._audit.record(
                requester.identity,
                "stream.register",
                plan.definition.name,
                REFUSED,
                {"step": step, "reason": reason, "undone": undone},
            )
            if isinstance(exc, RegistryError) and exc.status_code < 500:
                raise  # the caller's mistake (e.g. a policy violation): its own error says what to fix
            raise RegistrationStepFailedError(plan.definition.name, step, reason, undone) from exc
        return RegisteredStream(
            plan.definition.name, StreamState.REGISTERED.value, plan.owner, key_id, value_id, issued
        )

    def _plan(self, requester: Requester, definition: StreamDefinition) -> _Plan:
        domain, entity = split_stream_name(definition.name)
        if not requester.is_admin and requester.domain != domain:
            raise StreamWriteForbiddenError(requester.identity, f"register streams of domain '{domain}'")
        try:
            CompatibilityLevel.parse(definition.compatibility)
        except ValueError as exc:
            raise InvalidCompatibilityLevelError(f"compatibility {definition.compatibility!r}: {exc}") from exc
        key = parse_submission(SchemaSubmission(definition.key_schema))
        value = parse_submission(SchemaSubmission(definition.value_schema))
        refuse_unstorable_fields(schema_tree(definition.key_subject, key))
        refuse_unstorable_fields(schema_tree(definition.value_subject, value))
        check_data_rules(definition.name, [spec.rule() for spec in definition.data_rules], definition.value_schema)
        return _Plan(definition, domain, entity, definition.owner or requester.identity, key, value)

    def _reserve(self, requester: Requester, plan: _Plan) -> None:
        definition, now = plan.definition, datetime.now(UTC)
        try:
            with self._sessions.begin() as session:
                self._check_reservation(session, plan)
                session.add(
                    Stream(
                        name=definition.name,
                        domain=plan.domain,
                        entity=plan.entity,
                        description=definition.description,
                        owner_identity=plan.owner,
                        owner_team=definition.owner_team,
                        contact=definition.contact,
                        partitions=definition.partitions,
                        tags=list(definition.tags),
                        is_source=definition.source,
                        # Set with the fields once the value schema is registered (replace_stream_fields).
                        has_pii=False,
                        compatibility=definition.compatibility.upper(),
                        topic_config=definition.effective_topic_config(),
                        key_subject=definition.key_subject,
                        value_subject=definition.value_subject,
                        state=StreamState.PENDING.value,
                        created_at=now,
                        updated_at=now,
                        registered_by=requester.identity,
                        registration_steps=[],
                        lease_expires_at=now + self._lease,
                        data_rules=[spec.model_dump() for spec in definition.data_rules],
                    )
                )
        except IntegrityError as exc:
            # The loser of a race on the same name: the winner's row holds the key, and nothing of the
            # winner's (topic, subjects, ACLs) was touched.
            with self._sessions() as session:
                winner = session.get(Stream, definition.name)
            if winner is None:
                raise
            raise StreamAlreadyExistsError(definition.name, winner.state) from exc
        if topic_exists(self._kafka_admin(), definition.name):
            self._delete_row(definition.name)
            raise StreamTopicExistsError(definition.name)

    def _check_reservation(self, session: Session, plan: _Plan) -> None:
        definition = plan.definition
        if session.get(Domain, plan.domain) is None:
            raise DomainNotFoundError(plan.domain)
        existing = session.get(Stream, definition.name)
        if existing is not None:
            raise StreamAlreadyExistsError(definition.name, existing.state)
        owner = session.get(Identity, plan.owner)
        if owner is not None and owner.domain != plan.domain:
            raise OwnerOutsideDomainError(plan.owner, owner.domain, plan.domain)
        if owner is not None and owner.revoked_at is not None:
            raise IdentityRevokedError(plan.owner)
        subjects = (definition.key_subject, definition.value_subject)
        used = session.scalars(
            select(SubjectVersion.subject).where(SubjectVersion.subject.in_(subjects)).distinct()
        ).all()
        if used:
            raise StreamSubjectsInUseError(definition.name, sorted(used))

    def _check_policies(self, requester: Requester, plan: _Plan) -> None:
        contexts = stream_registration_contexts(requester, plan.definition, plan.key, plan.value)
        violations: list[Violation] = []
        with self._sessions() as session:
            for context in contexts:
                violations.extend(self._gate.decide(session, context).violations)
        if violations:
            raise PolicyViolationError(plan.definition.name, violations)

    def _ensure_owner_certificate(self, plan: _Plan) -> IssuedCertificate | None:
        """Issue the owner a certificate unless it holds a valid one."""
        now = datetime.now(UTC)
        records = self._ledger.list_certificates(plan.owner)
        if any(record.status(now) is CertificateStatus.VALID for record in records):
            return None
        self._record_step(plan.definition.name, OWNER_IDENTITY)
        self._fault(OWNER_IDENTITY, "fail")
        if self._protected.protects(plan.owner, plan.domain):
            raise ProtectedIdentityError(plan.owner, plan.domain)
        issued = self._ledger.issue(plan.owner, plan.domain, via=IssuancePath.API)
        self._record_step(plan.definition.name, f"{OWNER_IDENTITY}:{issued.serial_hex}")
        self._fault(OWNER_IDENTITY, "after")
        return issued

    def _register_schemas(self, requester: Requester, plan: _Plan) -> tuple[int, int]:
        definition = plan.definition
        self._record_step(definition.name, SCHEMAS)
        self._fault(SCHEMAS, "fail")
        for subject in (definition.key_subject, definition.value_subject):
            self._registry.set_compatibility(subject, definition.compatibility, requester.identity)
        key = self._registry.register(
            definition.key_subject, SchemaSubmission(definition.key_schema), requester=requester
        )
        value = self._registry.register(
            definition.value_subject, SchemaSubmission(definition.value_schema), requester=requester
        )
        self._fault(SCHEMAS, "after")
        return key.schema_id, value.schema_id

    def _create_topic(self, plan: _Plan) -> None:
        definition = plan.definition
        self._record_step(definition.name, TOPIC)
        self._fault(TOPIC, "fail")
        if not create_stream_topic(
            self._kafka_admin(), definition.name, definition.partitions, definition.effective_topic_config()
        ):
            raise StreamTopicExistsError(definition.name)
        self._fault(TOPIC, "after")

    def _grant_owner(self, plan: _Plan) -> None:
        self._record_step(plan.definition.name, ACLS)
        self._fault(ACLS, "fail")
        create_acls(self._kafka_admin(), producer_bindings(plan.owner, plan.definition.name))
        self._fault(ACLS, "after")

    def _finish(self, requester: Requester, plan: _Plan) -> None:
        self._fault(CATALOG, "fail")
        definition, now = plan.definition, datetime.now(UTC)
        with self._sessions.begin() as session:
            row = session.get(Stream, definition.name)
            assert row is not None, "the reservation row disappeared during registration"
            for tag in dict.fromkeys(definition.tags):
                session.add(StreamTag(stream=row.name, tag=tag))
            row.state, row.lease_expires_at, row.updated_at = StreamState.REGISTERED.value, None, now
            after = {"state": row.state, "owner": row.owner_identity, "partitions": row.partitions}
            record_audit(
                session,
                requester.identity,
                "stream.register",
                row.name,
                DONE,
                {"steps": list(row.registration_steps)},
                after=after,
            )

    # -- compensation ------------------------------------------------------------------------
    def undo(self, name: str, actor: str) -> list[str]:
        """Undo every recorded step of a PENDING registration, newest first, then drop its row.

        Each undo is idempotent (a missing topic, subject or ACL is fine), so a run interrupted here
        is finished by the next one (the row stays until everything is undone)."""
        with self._sessions() as session:
            row = session.get(Stream, name)
            if row is None or row.state != StreamState.PENDING.value:
                return []
            steps, owner = list(row.registration_steps), row.owner_identity
            subjects = (row.key_subject, row.value_subject)
        undone: list[str] = []
        for step in reversed(steps):
            if step == ACLS:
                delete_bindings(self._kafka_admin(), producer_bindings(owner, name))
                undone.append(f"ACLs of {owner} on {name}")
            elif step == TOPIC:
                if delete_topic(self._kafka_admin(), name):
                    undone.append(f"topic {name}")
            elif step == SCHEMAS:
                for subject in subjects:
                    self._registry.purge_subject(subject, actor)
                undone.append(f"subjects {', '.join(subjects)}")
            elif step.startswith(f"{OWNER_IDENTITY}:"):
                serial = step.partition(":")[2]
                self._ledger.revoke_certificate(serial)
                undone.append(f"certificate {serial} of {owner}")
        self._delete_row(name)
        undone.append("reservation")
        return undone

    def reconcile(self) -> list[str]:
        """Undo every registration whose hub stopped working on it (lease run out); returns their names."""
        now = datetime.now(UTC)
        with self._sessions() as session:
            names = list(
                session.scalars(
                    select(Stream.name).where(Stream.state == StreamState.PENDING.value, Stream.lease_expires_at < now)
                )
            )
        for name in names:
            undone = self.undo(name, HUB_ACTOR)
            self._audit.record(
                HUB_ACTOR,
                "stream.register",
                name,
                REFUSED,
                {
                    "reason": "registration interrupted (its hub stopped mid-way); undone by the reconciler",
                    "undone": undone,
                },
            )
        if names:
            logger.warning("undid interrupted stream registrations: %s", ", ".join(names))
        return names

    # -- helpers -----------------------------------------------------------------------------
    def _record_step(self, name: str, step: str) -> None:
        """Commit the step (before it acts) and extend the lease: the reconciler leaves the row alone."""
        with self._sessions.begin() as session:
            row = session.get(Stream, name)
            assert row is not None, "the reservation row disappeared during registration"
            row.registration_steps = [*row.registration_steps, step]
            row.lease_expires_at = datetime.now(UTC) + self._lease

    def _delete_row(self, name: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(Stream, name)
            if row is not None:
                session.delete(row)

    def _fault(self, step: str, when: str) -> None:
        planned = self._faults.get(step)
        if planned == "fail" and when == "fail":
            raise InjectedFaultError(f"injected failure before step {step}")
        if planned == "fail-after" and when == "after":
            raise InjectedFaultError(f"injected failure after step {step}")
        if planned == "crash" and when == "after":
            raise SimulatedCrash(f"simulated crash after step {step}")
        if planned == "hang" and when == "after":
            time.sleep(3600)
