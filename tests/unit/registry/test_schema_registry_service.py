"""Schema-registry use cases on a real database, once on SQLite and once on PostgreSQL."""

import json

import pytest
from sqlalchemy import Engine

from headwater.registry.database import create_database_engine, session_factory, upgrade_database
from headwater.registry.schema_registry_errors import (
    IncompatibleSchemaVersionError,
    InvalidCompatibilityLevelError,
    InvalidSchemaVersionError,
    InvalidSubjectError,
    InvalidVersionError,
    OperationNotPermittedError,
    SchemaIdConflictError,
    SchemaNotFoundError,
    SubjectCompatibilityNotConfiguredError,
    SubjectNotFoundError,
    SubjectNotSoftDeletedError,
    SubjectSoftDeletedError,
    VersionNotFoundError,
    VersionNotSoftDeletedError,
    VersionSoftDeletedError,
)
from headwater.registry.schemas.compatibility import CompatibilityLevel
from headwater.registry.services.registry_transfer import export_registry, import_registry
from headwater.registry.services.schema_registry import Mode, SchemaRegistry, SchemaSubmission
from tests.policy_helpers import SHIPPED_POLICIES


def record(*fields: dict[str, object], name: str = "Payment") -> SchemaSubmission:
    return SchemaSubmission(json.dumps({"type": "record", "name": name, "fields": list(fields)}))


ID = {"name": "id", "type": "string"}
AMOUNT = {"name": "amount", "type": "long"}
CURRENCY_WITH_DEFAULT = {"name": "currency", "type": "string", "default": "EUR"}
CURRENCY_WITHOUT_DEFAULT = {"name": "currency", "type": "string"}


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    return migrated_engine


@pytest.fixture
def registry(engine: Engine) -> SchemaRegistry:
    return SchemaRegistry(session_factory(engine), SHIPPED_POLICIES)


def test_versions_count_up_and_reregistering_returns_the_existing_version(registry: SchemaRegistry) -> None:
    first = registry.register("payments-value", record(ID, AMOUNT))
    second = registry.register("payments-value", record(ID, AMOUNT, CURRENCY_WITH_DEFAULT))
    again = registry.register("payments-value", record(ID, AMOUNT, CURRENCY_WITH_DEFAULT))
    assert (first.version, second.version) == (1, 2)
    assert again == second
    assert registry.versions("payments-value", include_deleted=False, deleted_only=False) == [1, 2]


def test_one_schema_has_one_id_under_every_subject_whatever_its_whitespace(registry: SchemaRegistry) -> None:
    compact = registry.register("a-value", record(ID))
    spaced = SchemaSubmission(json.dumps({"fields": [ID], "name": "Payment", "type": "record"}, indent=4))
    other_subject = registry.register("b-value", spaced)
    assert other_subject.schema_id == compact.schema_id
    assert registry.versions_of_schema(compact.schema_id, include_deleted=False) == [("a-value", 1), ("b-value", 1)]


def test_an_incompatible_schema_is_refused_with_the_reason_and_nothing_stored(registry: SchemaRegistry) -> None:
    registry.register("payments-value", record(ID, AMOUNT))
    with pytest.raises(IncompatibleSchemaVersionError, match="compatibility BACKWARD") as refused:
        registry.register("payments-value", record(ID, AMOUNT, CURRENCY_WITHOUT_DEFAULT))
    assert any("currency" in message for message in refused.value.messages)
    assert registry.versions("payments-value", include_deleted=True, deleted_only=False) == [1]


def test_compatibility_level_none_accepts_any_change(registry: SchemaRegistry) -> None:
    registry.register("payments-value", record(ID, AMOUNT))
    assert registry.set_compatibility("payments-value", "none") is CompatibilityLevel.NONE
    assert registry.register("payments-value", record(ID, CURRENCY_WITHOUT_DEFAULT)).version == 2


def test_invalid_schemas_and_references_are_refused(registry: SchemaRegistry) -> None:
    with pytest.raises(InvalidSchemaVersionError, match="Invalid AVRO schema"):
        registry.register("x-value", SchemaSubmission('{"type": "record", "name": "R", "fields": [{"name": "a"'))
    with pytest.raises(InvalidSchemaVersionError, match="Invalid AVRO schema: .*moneyy"):
        registry.register("x-value", record({"name": "a", "type": "moneyy"}))
    with pytest.raises(InvalidSchemaVersionError, match="references are not supported"):
        registry.register("x-value", SchemaSubmission('"string"', has_references=True))
    with pytest.raises(InvalidSchemaVersionError, match="accepts AVRO schemas only"):
        registry.register("x-value", SchemaSubmission("{}", schema_type="PROTOBUF"))
    assert registry.subjects(include_deleted=True, deleted_only=False, prefix=None) == []


def test_bad_subjects_and_versions_are_refused(registry: SchemaRegistry) -> None:
    with pytest.raises(InvalidSubjectError, match="control characters"):
        registry.register("bad\nsubject", record(ID))
    registry.register("payments-value", record(ID))
    for text in ("0", "-2", "abc", str(2**31)):
        with pytest.raises(InvalidVersionError, match=f"'{text}' is not a valid version id"):
            registry.version("payments-value", text, include_deleted=False)
    with pytest.raises(VersionNotFoundError, match="Version 9 not found"):
        registry.version("payments-value", "9", include_deleted=False)
    with pytest.raises(SubjectNotFoundError, match="Subject 'nobody-value' not found"):
        registry.version("nobody-value", "latest", include_deleted=False)


def test_soft_deleted_versions_hide_but_their_ids_still_resolve(registry: SchemaRegistry) -> None:
    first = registry.register("payments-value", record(ID))
    registry.register("payments-value", record(ID, CURRENCY_WITH_DEFAULT))
    assert registry.delete_version("payments-value", "1", permanent=False) == 1
    assert registry.versions("payments-value", include_deleted=False, deleted_only=False) == [2]
    assert registry.versions("payments-value", include_deleted=True, deleted_only=False) == [1, 2]
    assert registry.schema_by_id(first.schema_id).text == first.text
    with pytest.raises(VersionSoftDeletedError, match="was soft deleted"):
        registry.delete_version("payments-value", "1", permanent=False)
    with pytest.raises(VersionNotSoftDeletedError, match="was not deleted first"):
        registry.delete_version("payments-value", "2", permanent=True)
    assert registry.delete_version("payments-value", "1", permanent=True) == 1
    with pytest.raises(VersionNotFoundError):
        registry.delete_version("payments-value", "1", permanent=True)


def test_subject_delete_is_soft_first_then_permanent(registry: SchemaRegistry) -> None:
    registry.register("payments-value", record(ID))
    with pytest.raises(SubjectNotSoftDeletedError):
        registry.delete_subject("payments-value", permanent=True)
    assert registry.delete_subject("payments-value", permanent=False) == [1]
    with pytest.raises(SubjectSoftDeletedError):
        registry.delete_subject("payments-value", permanent=False)
    assert registry.subjects(include_deleted=False, deleted_only=False, prefix=None) == []
    assert registry.subjects(include_deleted=False, deleted_only=True, prefix=None) == ["payments-value"]
    assert registry.delete_subject("payments-value", permanent=True) == [1]
    with pytest.raises(SubjectNotFoundError):
        registry.delete_subject("payments-value", permanent=True)


def test_lookup_finds_the_version_or_says_what_is_missing(registry: SchemaRegistry) -> None:
    registered = registry.register("payments-value", record(ID))
    assert registry.lookup("payments-value", record(ID), include_deleted=False) == registered
    with pytest.raises(SchemaNotFoundError):
        registry.lookup("payments-value", record(ID, AMOUNT), include_deleted=False)
    with pytest.raises(SubjectNotFoundError):
        registry.lookup("other-value", record(ID), include_deleted=False)


def test_compatibility_settings_per_subject_and_global(registry: SchemaRegistry) -> None:
    assert registry.compatibility(None, default_to_global=False) is CompatibilityLevel.BACKWARD
    with pytest.raises(SubjectCompatibilityNotConfiguredError, match="does not have subject-level compatibility"):
        registry.compatibility("payments-value", default_to_global=False)
    assert registry.compatibility("payments-value", default_to_global=True) is CompatibilityLevel.BACKWARD
    registry.set_compatibility("payments-value", "FULL_TRANSITIVE")
    assert registry.compatibility("payments-value", default_to_global=False) is CompatibilityLevel.FULL_TRANSITIVE
    assert registry.delete_compatibility("payments-value") is CompatibilityLevel.FULL_TRANSITIVE
    with pytest.raises(InvalidCompatibilityLevelError, match="Invalid compatibility level"):
        registry.set_compatibility(None, "SIDEWAYS")


def test_compatibility_checks_against_a_version_and_against_the_level(registry: SchemaRegistry) -> None:
    assert registry.check_against_version("payments-value", "latest", record(ID)) == []
    registry.register("payments-value", record(ID, AMOUNT))
    assert registry.check_against_version("payments-value", "1", record(ID, AMOUNT, CURRENCY_WITH_DEFAULT)) == []
    problems = registry.check_against_level("payments-value", record(ID, AMOUNT, CURRENCY_WITHOUT_DEFAULT))
    assert problems and any("currency" in problem for problem in problems)
    with pytest.raises(VersionNotFoundError):
        registry.check_against_version("payments-value", "7", record(ID))


def test_readonly_mode_refuses_writes_and_import_mode_keeps_given_ids(registry: SchemaRegistry) -> None:
    registry.set_mode(None, "READONLY", force=False)
    with pytest.raises(OperationNotPermittedError, match="READONLY"):
        registry.register("payments-value", record(ID))
    registry.set_mode(None, "IMPORT", force=False)
    imported = registry.register("payments-value", SchemaSubmission(record(ID).text, schema_id=42, version=3))
    assert (imported.schema_id, imported.version) == (42, 3)
    with pytest.raises(SchemaIdConflictError, match="already has id 42"):
        registry.register("other-value", SchemaSubmission(record(ID).text, schema_id=7))
    registry.set_mode(None, "READWRITE", force=False)
    assert registry.mode(None, default_to_global=False) is Mode.READWRITE
    with pytest.raises(OperationNotPermittedError, match="only in IMPORT mode"):
        registry.register("x-value", SchemaSubmission(record(AMOUNT).text, schema_id=9))
    with pytest.raises(OperationNotPermittedError, match="Cannot switch to IMPORT"):
        registry.set_mode(None, "IMPORT", force=False)


def test_export_then_import_into_an_empty_hub_keeps_every_id(engine: Engine, tmp_path) -> None:
    source = SchemaRegistry(session_factory(engine), SHIPPED_POLICIES)
    source.register("a-value", record(ID))
    source.register("a-value", record(ID, CURRENCY_WITH_DEFAULT))
    source.register("b-value", record(AMOUNT, name="Other"))
    source.delete_version("a-value", "1", permanent=False)
    source.set_compatibility("b-value", "FULL")
    document = export_registry(session_factory(engine))

    target_engine = create_database_engine(f"sqlite:///{tmp_path / 'target.db'}")
    upgrade_database(target_engine)
    counts = import_registry(session_factory(target_engine), document)
    target = SchemaRegistry(session_factory(target_engine), SHIPPED_POLICIES)
    assert (counts.schemas, counts.versions, counts.settings) == (3, 3, 1)
    assert export_registry(session_factory(target_engine)) == document
    for subject in ("a-value", "b-value"):
        for version in source.versions(subject, include_deleted=True, deleted_only=False):
            assert target.version(subject, str(version), include_deleted=True) == source.version(
                subject, str(version), include_deleted=True
            )
    with pytest.raises(OperationNotPermittedError, match="empty hub"):
        import_registry(session_factory(target_engine), document)
    target_engine.dispose()
