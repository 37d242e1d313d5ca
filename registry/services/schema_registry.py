"""Schema-registry use cases and their transaction boundaries (Confluent-compatible semantics).

Schema ids are global: one distinct schema text has one id under every subject, and ids never
change, because records in Kafka carry them. Versions are per subject and never reused.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from headwater.policies import Requester
from headwater.policies.data_contract import DataRule, contract_problems
from headwater.registry.errors import IdentityNotFoundError, JsonNestingTooDeepError
from headwater.registry.governance.contexts import (
    DATABASE_OPERATOR,
    schema_version_context,
    stream_schema_version_context,
)
from headwater.registry.governance.errors import PolicyViolationError
from headwater.registry.governance.gate import PolicyGate
from headwater.registry.governance.schema_tree import schema_tree
from headwater.registry.models import Identity, RegistrySetting, SchemaText, Stream, SubjectGrant, SubjectVersion
from headwater.registry.schema_registry_errors import (
    IncompatibleSchemaVersionError,
    InvalidCompatibilityLevelError,
    InvalidModeError,
    InvalidSchemaVersionError,
    OperationNotPermittedError,
    SchemaIdConflictError,
    SchemaNotFoundError,
    SubjectCompatibilityNotConfiguredError,
    SubjectModeNotConfiguredError,
    SubjectNotFoundError,
    SubjectNotSoftDeletedError,
    SubjectSoftDeletedError,
    TypeNestingTooDeepError,
    VersionNotFoundError,
    VersionNotSoftDeletedError,
    VersionSoftDeletedError,
)
from headwater.registry.schemas import AvroSchema, InvalidSchemaError, parse_schema
from headwater.registry.schemas.compatibility import CompatibilityLevel, check_compatibility
from headwater.registry.schemas.errors import SchemaJsonTooDeepError, SchemaNestingTooDeepError
from headwater.registry.services.audit import DONE, REFUSED, AuditLog, record_audit
from headwater.registry.services.schema_ids import lock_schema_ids, record_schema_id
from headwater.registry.services.subjects import Latest, parse_version, validate_subject
from headwater.registry.streams.errors import (
    KeySchemaFrozenError,
    SchemaBreaksDataRulesError,
    StreamSubjectDeleteError,
)
from headwater.registry.streams.fields import replace_stream_fields
from headwater.registry.streams.state import StreamState

AVRO = "AVRO"
GLOBAL_SCOPE = ""
GLOBAL_TARGET = "(global)"
"""The audit target of a global setting change."""
DEFAULT_LEVEL = CompatibilityLevel.BACKWARD


class Mode(StrEnum):
    READWRITE = "READWRITE"
    READONLY = "READONLY"
    IMPORT = "IMPORT"


@dataclass(frozen=True)
class SchemaSubmission:
    """A schema as a client sends it (register, lookup, compatibility check)."""

    text: str
    schema_type: str = AVRO
    has_references: bool = False
    schema_id: int | None = None
    """Only in IMPORT mode: the id the schema had on the hub it comes from."""
    version: int | None = None


@dataclass(frozen=True)
class RegisteredVersion:
    subject: str
    version: int
    schema_id: int
    schema_type: str
    text: str
    deleted: bool


def schema_fingerprint(schema_type: str, text: str) -> str:
    """The key under which one schema text gets one global id."""
    return hashlib.sha256(f"{schema_type}\n{text}".encode()).hexdigest()


def parse_submission(submission: SchemaSubmission) -> AvroSchema:
    """The submitted schema, parsed; refuses other types than Avro, references and invalid schemas (42201),
    and schemas nested beyond the limits (42250 JSON, 42251 types)."""
    if submission.schema_type.upper() != AVRO:
        raise InvalidSchemaVersionError(
            f"Invalid schema type '{submission.schema_type}': this registry accepts AVRO schemas only."
        )
    if submission.has_references:
        raise InvalidSchemaVersionError(
            "Schema references are not supported yet: inline the referenced named types into the schema."
        )
    try:
        return parse_schema(submission.text)
    except SchemaJsonTooDeepError as exc:
        raise JsonNestingTooDeepError("the schema text", exc.limit) from exc
    except SchemaNestingTooDeepError as exc:
        raise TypeNestingTooDeepError(exc.limit, exc.path or "/") from exc
    except InvalidSchemaError as exc:
        raise InvalidSchemaVersionError(f"Invalid AVRO schema: {exc}") from exc


def stream_of_subject(session: Session, subject: str) -> Stream | None:
    """The catalog stream (in any state but DELETED) whose key or value subject this is."""
    query = select(Stream).where(
        or_(Stream.key_subject == subject, Stream.value_subject == subject), Stream.state != StreamState.DELETED
    )
    return session.scalars(query).first()


class _Refused(Exception):
    """Carries a refusal out of the rolled-back transaction, with the audit details to record."""

    def __init__(self, error: Exception, details: dict[str, Any]) -> None:
        self.error, self.details = error, details


def _stored_text(schema: AvroSchema, normalize: bool) -> str:
    return schema.normalized_text if normalize else schema.canonical_text


def _registered(row: SubjectVersion) -> RegisteredVersion:
    return RegisteredVersion(
        row.subject, row.version, row.schema_id, row.schema.schema_type, row.schema.text, row.deleted
    )


class SchemaRegistry:
    """Every write runs in one transaction with its audit entry; refusals are audited on their own."""

    def __init__(self, sessions: sessionmaker[Session], gate: PolicyGate) -> None:
        self._sessions = sessions
        self._gate = gate
        self._audit = AuditLog(sessions)

    # -- writes ------------------------------------------------------------------------------
    def register(
        self,
        subject: str,
        submission: SchemaSubmission,
        normalize: bool = False,
        requester: Requester = DATABASE_OPERATOR,
    ) -> RegisteredVersion:
        """Register a schema version, or return the existing live version holding the same schema.

        A new version must be compatible and pass the schema-version policies; a refusal stores nothing
        but its audit entry."""
        validate_subject(subject)
        schema = parse_submission(submission)
        text = _stored_text(schema, normalize)
        fingerprint = schema_fingerprint(AVRO, text)
        # Clients register the schema they hold on every start: answered by a read, without the lock
        # every new version waits for.
        with self._sessions() as session:
            existing = self._existing_version(session, subject, submission, fingerprint)
        if existing is not None:
            return _registered(existing)
        try:
            with self._sessions.begin() as session:
                return self._register(session, subject, submission, schema, fingerprint, text, requester)
        except _Refused as refused:
            self._audit.record(requester.identity, "schema.register", subject, REFUSED, refused.details)
            raise refused.error from None

    def _register(
        self,
        session: Session,
        subject: str,
        submission: SchemaSubmission,
        schema: AvroSchema,
        fingerprint: str,
        text: str,
        requester: Requester,
    ) -> RegisteredVersion:
        last_schema_id = lock_schema_ids(session)  # first: what follows sees every registration before
        existing = self._existing_version(session, subject, submission, fingerprint)
        if existing is not None:  # registered by another request since the read in `register`
            return _registered(existing)
        importing = self._mode(session, subject, default_to_global=True) is Mode.IMPORT
        rows = self._versions(session, subject)
        stream = stream_of_subject(session, subject)
        if stream is not None and subject == stream.key_subject and any(not row.deleted for row in rows):
            raise KeySchemaFrozenError(stream.name)
        # IMPORT restores versions another hub already checked: neither compatibility nor policies run again.
        details = (
            {"import": True} if importing else self._check_change(session, subject, schema, rows, requester, stream)
        )
        if submission.version is not None and any(row.version == submission.version for row in rows):
            raise OperationNotPermittedError(
                f"Subject '{subject}' already has version {submission.version}; import into a subject without it."
            )
        schema_row = self._schema_row(session, fingerprint, text, submission.schema_id, last_schema_id)
        version = submission.version or max((row.version for row in rows), default=0) + 1
        row = SubjectVersion(
            subject=subject, version=version, schema_id=schema_row.id, deleted=False, created_at=datetime.now(UTC)
        )
        row.schema = schema_row
        session.add(row)
        session.flush()
        registered = _registered(row)
        if stream is not None:
            # The catalog searches and shows the latest schemas' fields.
            role = "key" if subject == stream.key_subject else "value"
            replace_stream_fields(session, stream, role, schema_tree(subject, schema))
        after = {"version": registered.version, "schema_id": registered.schema_id}
        record_audit(session, requester.identity, "schema.register", subject, DONE, details, after=after)
        return registered

    def _existing_version(
        self, session: Session, subject: str, submission: SchemaSubmission, fingerprint: str
    ) -> SubjectVersion | None:
        """The live version holding this schema, if any, once the mode allows the request at all."""
        mode = self._mode(session, subject, default_to_global=True)
        if mode is Mode.READONLY:
            raise OperationNotPermittedError(f"Subject '{subject}' is in READONLY mode; writes are refused.")
        if submission.schema_id is not None and mode is not Mode.IMPORT:
            raise OperationNotPermittedError("A schema id may be given only in IMPORT mode.")
        live = (row for row in self._versions(session, subject) if not row.deleted)
        return next((row for row in live if row.schema.fingerprint == fingerprint), None)

    def _check_change(
        self,
        session: Session,
        subject: str,
        schema: AvroSchema,
        rows: Sequence[SubjectVersion],
        requester: Requester,
        stream: Stream | None,
    ) -> dict[str, Any]:
        """Compatibility first (Confluent's 409), then every policy; returns the decision to audit."""
        live = [parse_schema(row.schema.text) for row in rows if not row.deleted]
        level = self._level(session, subject, default_to_global=True)
        problems = [str(problem) for problem in check_compatibility(level, schema, live)]
        if problems:
            details = {"compatibility": {"level": level.value, "incompatibilities": problems}}
            raise _Refused(IncompatibleSchemaVersionError(subject, level.value, problems), details)
        if stream is not None and subject == stream.value_subject and stream.data_rules:
            # Producers check every record against the rules with the latest value schema: a version the
            # rules cannot read (a field they use dropped or retyped) would stop every producer.
            rules = [DataRule(**rule) for rule in stream.data_rules]
            broken = contract_problems(rules, schema.canonical_text)
            if broken:
                raise _Refused(SchemaBreaksDataRulesError(stream.name, broken), {"data_rules": broken})
        previous = live[-1] if live else None
        if stream is None:
            context = schema_version_context(requester, subject, schema, previous)
        else:
            key = self._latest_live(session, stream.key_subject) if subject != stream.key_subject else None
            context = stream_schema_version_context(requester, stream, subject, schema, previous, key)
        decision = self._gate.decide(session, context)
        details = self._gate.audit_details(context, decision)
        if not decision.allowed:
            raise _Refused(PolicyViolationError(subject, decision.violations), details)
        return details

    @staticmethod
    def _schema_row(
        session: Session, fingerprint: str, text: str, wanted_id: int | None, last_schema_id: int
    ) -> SchemaText:
        existing = session.scalar(select(SchemaText).where(SchemaText.fingerprint == fingerprint))
        if existing is not None:
            if wanted_id is not None and existing.id != wanted_id:
                raise SchemaIdConflictError(
                    f"This schema already has id {existing.id} here, not {wanted_id}; import into an empty hub."
                )
            return existing
        if wanted_id is not None and session.get(SchemaText, wanted_id) is not None:
            raise SchemaIdConflictError(f"Schema id {wanted_id} already holds another schema here.")
        schema_id = last_schema_id + 1 if wanted_id is None else wanted_id
        record_schema_id(session, schema_id)
        row = SchemaText(
            id=schema_id, schema_type=AVRO, text=text, fingerprint=fingerprint, created_at=datetime.now(UTC)
        )
        session.add(row)
        return row

    def delete_version(
        self, subject: str, version_text: str, permanent: bool, actor: str = DATABASE_OPERATOR.identity
    ) -> int:
        version = parse_version(version_text)
        with self._sessions.begin() as session:
            self._refuse_in_readonly(session, subject)
            self._refuse_stream_subject(session, subject)
            rows = self._existing_versions(session, subject)
            # A numbered version is found even when soft-deleted (to answer 40406 rather than 40402);
            # `latest` means the newest live version for a soft delete.
            row = self._pick(rows, subject, version, include_deleted=permanent or version != "latest")
            if permanent:
                if not row.deleted:
                    raise VersionNotSoftDeletedError(subject, row.version)
                session.delete(row)
            elif row.deleted:
                raise VersionSoftDeletedError(subject, row.version)
            else:
                row.deleted = True
            action = "schema.version.delete" + (".permanent" if permanent else "")
            details = {"version": row.version, "schema_id": row.schema_id}
            record_audit(session, actor, action, subject, DONE, details)
            return row.version

    def delete_subject(self, subject: str, permanent: bool, actor: str = DATABASE_OPERATOR.identity) -> list[int]:
        with self._sessions.begin() as session:
            self._refuse_in_readonly(session, subject)
            self._refuse_stream_subject(session, subject)
            rows = self._existing_versions(session, subject)
            live = [row for row in rows if not row.deleted]
            if permanent:
                if live:
                    raise SubjectNotSoftDeletedError(subject)
                deleted = list(rows)
                for row in rows:
                    session.delete(row)
            else:
                if not live:
                    raise SubjectSoftDeletedError(subject)
                deleted = live
                for row in live:
                    row.deleted = True
            versions = [row.version for row in deleted]
            action = "schema.subject.delete" + (".permanent" if permanent else "")
            record_audit(session, actor, action, subject, DONE, {"versions": versions})
            return versions

    # -- reads -------------------------------------------------------------------------------
    def lookup(self, subject: str, submission: SchemaSubmission, include_deleted: bool) -> RegisteredVersion:
        schema = parse_submission(submission)
        fingerprints = {
            schema_fingerprint(AVRO, schema.canonical_text),
            schema_fingerprint(AVRO, schema.normalized_text),
        }
        with self._sessions() as session:
            rows = self._existing_versions(session, subject)
            matches = [
                row for row in rows if row.schema.fingerprint in fingerprints and (include_deleted or not row.deleted)
            ]
            if not matches:
                raise SchemaNotFoundError("Schema not found under this subject. Register it first.")
            return _registered(matches[-1])

    def latest_live_schema(self, subject: str) -> AvroSchema | None:
        """The newest version not soft-deleted, or None when the subject has none."""
        with self._sessions() as session:
            return self._latest_live(session, subject)

    def _latest_live(self, session: Session, subject: str) -> AvroSchema | None:
        live = [row for row in self._versions(session, subject) if not row.deleted]
        return parse_schema(live[-1].schema.text) if live else None

    def schema_by_id(self, schema_id: int) -> SchemaText:
        with self._sessions() as session:
            row = session.get(SchemaText, schema_id)
            if row is None:
                raise SchemaNotFoundError(f"Schema {schema_id} not found")
            return row

    def versions_of_schema(self, schema_id: int, include_deleted: bool) -> list[tuple[str, int]]:
        self.schema_by_id(schema_id)
        query = select(SubjectVersion.subject, SubjectVersion.version).where(SubjectVersion.schema_id == schema_id)
        if not include_deleted:
            query = query.where(SubjectVersion.deleted.is_(False))
        with self._sessions() as session:
            return [
                (subject, version)
                for subject, version in session.execute(query.order_by(SubjectVersion.subject, SubjectVersion.version))
            ]

    def subjects(self, include_deleted: bool, deleted_only: bool, prefix: str | None) -> list[str]:
        with self._sessions() as session:
            live = set(session.scalars(select(SubjectVersion.subject).where(SubjectVersion.deleted.is_(False))))
            every = set(session.scalars(select(SubjectVersion.subject)))
        chosen = every - live if deleted_only else every if include_deleted else live
        return sorted(subject for subject in chosen if prefix is None or subject.startswith(prefix))

    def versions(self, subject: str, include_deleted: bool, deleted_only: bool) -> list[int]:
        with self._sessions() as session:
            rows = self._existing_versions(session, subject)
        chosen = [row.version for row in rows if (row.deleted if deleted_only else include_deleted or not row.deleted)]
        if not chosen and not (include_deleted or deleted_only):
            raise SubjectNotFoundError(subject)
        return chosen

    def version(self, subject: str, version_text: str, include_deleted: bool) -> RegisteredVersion:
        version = parse_version(version_text)
        with self._sessions() as session:
            rows = self._existing_versions(session, subject)
            return _registered(self._pick(rows, subject, version, include_deleted))

    # -- compatibility checks ----------------------------------------------------------------
    def check_against_version(self, subject: str, version_text: str, submission: SchemaSubmission) -> list[str]:
        """Confluent checks only the version named, even under a transitive level; `latest` on a
        subject without live versions is compatible."""
        version = parse_version(version_text)
        schema = parse_submission(submission)
        with self._sessions() as session:
            level = self._level(session, subject, default_to_global=True)
            rows = self._versions(session, subject)
            live = [row for row in rows if not row.deleted]
            if version == "latest" and not live:
                return []
            if not rows:
                raise SubjectNotFoundError(subject)
            target = self._pick(rows, subject, version, include_deleted=False)
            previous = [parse_schema(target.schema.text)]
        return [str(problem) for problem in check_compatibility(level, schema, previous)]

    def check_against_level(self, subject: str, submission: SchemaSubmission) -> list[str]:
        schema = parse_submission(submission)
        with self._sessions() as session:
            level = self._level(session, subject, default_to_global=True)
            live = [row for row in self._versions(session, subject) if not row.deleted]
            previous = [parse_schema(row.schema.text) for row in live]
        return [str(problem) for problem in check_compatibility(level, schema, previous)]

    # -- settings ----------------------------------------------------------------------------
    def compatibility(self, subject: str | None, default_to_global: bool) -> CompatibilityLevel:
        with self._sessions() as session:
            return self._level(session, subject, default_to_global)

    def set_compatibility(
        self, subject: str | None, level_text: str, actor: str = DATABASE_OPERATOR.identity
    ) -> CompatibilityLevel:
        try:
            level = CompatibilityLevel.parse(level_text)
        except ValueError as exc:
            raise InvalidCompatibilityLevelError(str(exc)) from exc
        with self._sessions.begin() as session:
            self._change_setting(session, subject, "compatibility", level.value, actor)
        return level

    def delete_compatibility(self, subject: str | None, actor: str = DATABASE_OPERATOR.identity) -> CompatibilityLevel:
        previous = self.compatibility(subject, default_to_global=False)
        with self._sessions.begin() as session:
            self._change_setting(session, subject, "compatibility", None, actor)
        return previous

    def mode(self, subject: str | None, default_to_global: bool) -> Mode:
        with self._sessions() as session:
            return self._mode(session, subject, default_to_global)

    def set_mode(
        self, subject: str | None, mode_text: str, force: bool, actor: str = DATABASE_OPERATOR.identity
    ) -> Mode:
        try:
            mode = Mode(mode_text.upper())
        except ValueError as exc:
            raise InvalidModeError(mode_text) from exc
        with self._sessions.begin() as session:
            if mode is Mode.IMPORT and not force and self._holds_versions(session, subject):
                raise OperationNotPermittedError(
                    "Cannot switch to IMPORT mode while subjects hold versions (ids could collide); "
                    "import into an empty hub, or pass force=true."
                )
            self._change_setting(session, subject, "mode", mode.value, actor)
        return mode

    def delete_mode(self, subject: str, actor: str = DATABASE_OPERATOR.identity) -> Mode:
        previous = self.mode(subject, default_to_global=False)
        with self._sessions.begin() as session:
            self._change_setting(session, subject, "mode", None, actor)
        return previous

    def _change_setting(self, session: Session, subject: str | None, name: str, value: str | None, actor: str) -> None:
        """Set (or with None, clear) the compatibility level or mode of a subject or, for None, the global one."""
        setting = self._setting(session, subject)
        before = getattr(setting, name)
        setattr(setting, name, value)
        target = GLOBAL_TARGET if subject is None else subject
        record_audit(session, actor, f"schema.{name}.set", target, DONE, {}, {name: before}, {name: value})

    # -- write authorisation -----------------------------------------------------------------
    def grant_subject(self, subject: str, identity: str, actor: str = DATABASE_OPERATOR.identity) -> None:
        validate_subject(subject)
        with self._sessions.begin() as session:
            if session.get(Identity, identity) is None:
                raise IdentityNotFoundError(identity)
            if session.get(SubjectGrant, (subject, identity)) is None:
                session.add(SubjectGrant(subject=subject, identity_name=identity, granted_at=datetime.now(UTC)))
                record_audit(session, actor, "schema.subject.grant", subject, DONE, {"identity": identity})

    def may_write(self, subject: str, identity: str) -> bool:
        """A catalog stream's subjects belong to the stream's owner; other subjects to identities granted them."""
        with self._sessions() as session:
            stream = stream_of_subject(session, subject)
            if stream is not None:
                return stream.owner_identity == identity
            return session.get(SubjectGrant, (subject, identity)) is not None

    def purge_subject(self, subject: str, actor: str) -> list[int]:
        """Delete every version and setting of `subject` at once, whatever its mode: for the catalog undoing
        a registration it started. Schema ids stay (other subjects may use them)."""
        with self._sessions.begin() as session:
            rows = self._versions(session, subject)
            for row in rows:
                session.delete(row)
            setting = session.get(RegistrySetting, subject)
            if setting is not None:
                session.delete(setting)
            versions = [row.version for row in rows]
            if versions or setting is not None:
                record_audit(session, actor, "schema.subject.purge", subject, DONE, {"versions": versions})
            return versions

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _versions(session: Session, subject: str) -> list[SubjectVersion]:
        query = select(SubjectVersion).where(SubjectVersion.subject == subject).order_by(SubjectVersion.version)
        return list(session.scalars(query))

    def _existing_versions(self, session: Session, subject: str) -> list[SubjectVersion]:
        rows = self._versions(session, subject)
        if not rows:
            raise SubjectNotFoundError(subject)
        return rows

    @staticmethod
    def _pick(
        rows: Sequence[SubjectVersion], subject: str, version: int | Latest, include_deleted: bool
    ) -> SubjectVersion:
        visible = [row for row in rows if include_deleted or not row.deleted]
        if version == "latest":
            if not visible:
                raise VersionNotFoundError(subject, "latest")
            return visible[-1]
        for row in visible:
            if row.version == version:
                return row
        raise VersionNotFoundError(subject, version)

    @staticmethod
    def _setting(session: Session, subject: str | None) -> RegistrySetting:
        scope = GLOBAL_SCOPE if subject is None else validate_subject(subject)
        setting = session.get(RegistrySetting, scope)
        if setting is None:
            setting = RegistrySetting(scope=scope)
            session.add(setting)
        return setting

    @staticmethod
    def _level(session: Session, subject: str | None, default_to_global: bool) -> CompatibilityLevel:
        """The subject's own level, else (when allowed) the global one, else the default."""
        if subject is not None:
            setting = session.get(RegistrySetting, subject)
            if setting is not None and setting.compatibility is not None:
                return CompatibilityLevel(setting.compatibility)
            if not default_to_global:
                raise SubjectCompatibilityNotConfiguredError(subject)
        setting = session.get(RegistrySetting, GLOBAL_SCOPE)
        return CompatibilityLevel(setting.compatibility) if setting and setting.compatibility else DEFAULT_LEVEL

    @staticmethod
    def _mode(session: Session, subject: str | None, default_to_global: bool) -> Mode:
        """The subject's own mode, else (when allowed) the global one, else READWRITE."""
        if subject is not None:
            setting = session.get(RegistrySetting, subject)
            if setting is not None and setting.mode is not None:
                return Mode(setting.mode)
            if not default_to_global:
                raise SubjectModeNotConfiguredError(subject)
        setting = session.get(RegistrySetting, GLOBAL_SCOPE)
        return Mode(setting.mode) if setting and setting.mode else Mode.READWRITE

    @staticmethod
    def _refuse_stream_subject(session: Session, subject: str) -> None:
        """Records in a stream's topic carry its schema ids: its subjects go only with the stream."""
        stream = stream_of_subject(session, subject)
        if stream is not None:
            raise StreamSubjectDeleteError(subject, stream.name)

    def _refuse_in_readonly(self, session: Session, subject: str) -> None:
        if self._mode(session, subject, default_to_global=True) is Mode.READONLY:
            raise OperationNotPermittedError(f"Subject '{subject}' is in READONLY mode; writes are refused.")

    def _holds_versions(self, session: Session, subject: str | None) -> bool:
        query = select(func.count()).select_from(SubjectVersion)
        if subject is not None:
            query = query.where(SubjectVersion.subject == subject)
        return bool(session.scalar(query))
