"""`headwater registry export | import | grant`, run as a user runs them: a subprocess, its output and
exit code. The move goes from a hub's SQLite file to PostgreSQL and must keep every id and setting."""

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from headwater.config import LocalSettings
from headwater.ledger import open_hub_database, open_ledger
from headwater.local.postgres import PrivatePostgres
from headwater.local.processes import free_port
from headwater.registry.schemas.compatibility import CompatibilityLevel
from headwater.registry.services.registry_transfer import dumps, export_registry
from headwater.registry.services.schema_registry import Mode, SchemaRegistry, SchemaSubmission
from tests.integration.test_cli import assert_one_line_error, run
from tests.policy_helpers import SHIPPED_POLICIES

ORDER_V1 = {"type": "record", "name": "Order", "fields": [{"name": "id", "type": "string"}]}
ORDER_V2 = {**ORDER_V1, "fields": [*ORDER_V1["fields"], {"name": "channel", "type": "string", "default": "web"}]}
AUDIT_V2 = {"type": "record", "name": "Audit", "fields": [{"name": "at", "type": "long"}]}
PAYMENT = {"type": "record", "name": "Payment", "fields": [{"name": "units", "type": "long"}]}
LEGACY = {"type": "record", "name": "Legacy", "fields": [{"name": "code", "type": "int"}]}
FRESH = {"type": "record", "name": "Fresh", "fields": [{"name": "x", "type": "boolean"}]}
IMPORTED_ID = 1000
IMPORTED_VERSION = 7


def _submission(schema: dict[str, object], **imported: int) -> SchemaSubmission:
    return SchemaSubmission(json.dumps(schema), **imported)


def _hub_database(state: Path, database_url: str | None = None) -> sessionmaker[Session]:
    return open_hub_database(LocalSettings(state_dir=state, database_url=database_url))


def _populate(registry: SchemaRegistry) -> None:
    """A registry with shared ids, a soft-deleted version and subject, an id gap and settings at every scope."""
    registry.register("orders-value", _submission(ORDER_V1))
    registry.register("orders-value", _submission(ORDER_V2))
    registry.delete_version("orders-value", "1", permanent=False)
    registry.register("audit-value", _submission(ORDER_V1))
    registry.set_compatibility("audit-value", "NONE")
    registry.register("audit-value", _submission(AUDIT_V2))
    registry.register("team/payments-value", _submission(PAYMENT))
    registry.delete_subject("team/payments-value", permanent=False)
    registry.set_mode("legacy-value", "IMPORT", force=False)
    registry.register("legacy-value", _submission(LEGACY, schema_id=IMPORTED_ID, version=IMPORTED_VERSION))
    registry.set_mode("legacy-value", "READONLY", force=False)
    registry.set_compatibility(None, "FORWARD_TRANSITIVE")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """The state folder of a hub whose SQLite registry holds every kind of entry."""
    state = tmp_path / "source"
    _populate(SchemaRegistry(_hub_database(state), SHIPPED_POLICIES))
    return state


@pytest.fixture
def export_file(source: Path, tmp_path: Path) -> Path:
    path = tmp_path / "registry.json"
    exported = run("registry", "export", str(path), state_dir=source)
    assert exported.returncode == 0, exported.stderr
    assert f"Exported 5 schema(s), 6 subject version(s) and 3 setting(s) to {path}" in exported.stdout
    return path


@pytest.fixture
def postgres_url(postgres_server: PrivatePostgres) -> str:
    return postgres_server.create_database(f"import_{uuid.uuid4().hex[:16]}")


def test_export_writes_every_schema_version_and_setting_of_the_hub(source: Path, export_file: Path) -> None:
    assert json.loads(export_file.read_text()) == export_registry(_hub_database(source))


def test_import_into_postgresql_keeps_every_id_version_deletion_and_setting(
    source: Path, export_file: Path, postgres_url: str, tmp_path: Path
) -> None:
    target_state = tmp_path / "target"
    imported = run(
        "registry", "import", str(export_file), state_dir=target_state, env={"HEADWATER_DATABASE_URL": postgres_url}
    )
    assert imported.returncode == 0, imported.stderr
    assert "Imported 5 schema(s), 6 subject version(s) and 3 setting(s) into postgresql+psycopg://" in imported.stdout
    assert not (target_state / "hub.db").exists(), "the import went to the state folder's SQLite, not PostgreSQL"

    target_sessions = _hub_database(target_state, postgres_url)
    assert export_registry(target_sessions) == export_registry(_hub_database(source))

    target = SchemaRegistry(target_sessions, SHIPPED_POLICIES)
    assert target.versions("orders-value", include_deleted=False, deleted_only=False) == [2]
    assert target.version("orders-value", "1", include_deleted=True).deleted is True
    shared_id = target.version("orders-value", "1", include_deleted=True).schema_id
    assert target.version("audit-value", "1", include_deleted=False).schema_id == shared_id
    assert target.subjects(include_deleted=False, deleted_only=True, prefix=None) == ["team/payments-value"]
    legacy = target.version("legacy-value", str(IMPORTED_VERSION), include_deleted=False)
    assert (legacy.version, legacy.schema_id) == (IMPORTED_VERSION, IMPORTED_ID)
    assert target.compatibility("audit-value", default_to_global=False) is CompatibilityLevel.NONE
    assert target.compatibility(None, default_to_global=True) is CompatibilityLevel.FORWARD_TRANSITIVE
    assert target.mode("legacy-value", default_to_global=False) is Mode.READONLY
    # New schemas continue after the highest imported id, so no record in Kafka can be misread.
    target.set_compatibility("fresh-value", "NONE")
    assert target.register("fresh-value", _submission(FRESH)).schema_id == IMPORTED_ID + 1


def test_import_into_a_registry_that_holds_schemas_is_refused(
    source: Path, export_file: Path, postgres_url: str, tmp_path: Path
) -> None:
    environment = {"HEADWATER_DATABASE_URL": postgres_url}
    first = run("registry", "import", str(export_file), state_dir=tmp_path / "target", env=environment)
    assert first.returncode == 0, first.stderr

    again = run("registry", "import", str(export_file), state_dir=tmp_path / "target", env=environment)
    assert_one_line_error(again, "already holds schemas", "import only into an empty hub")
    assert export_registry(_hub_database(tmp_path / "target", postgres_url)) == export_registry(_hub_database(source))


def test_import_into_a_registry_that_holds_only_settings_is_a_one_line_error(export_file: Path, tmp_path: Path) -> None:
    """A fresh hub whose admin already set the global level holds no schemas, but is not empty either."""
    target = tmp_path / "target"
    SchemaRegistry(_hub_database(target), SHIPPED_POLICIES).set_compatibility(None, "NONE")
    result = run("registry", "import", str(export_file), state_dir=target)
    assert_one_line_error(result, "empty hub")
    assert export_registry(_hub_database(target))["schemas"] == []


def test_import_with_an_invalid_schema_is_refused_and_imports_nothing(export_file: Path, tmp_path: Path) -> None:
    document = json.loads(export_file.read_text())
    document["schemas"][-1]["schema"] = '{"type": "record", "name": "Broken", "fields": [{"name": "a"}]}'
    export_file.write_text(dumps(document))

    result = run("registry", "import", str(export_file), state_dir=tmp_path / "target")
    assert_one_line_error(result, f"Schema id {document['schemas'][-1]['id']} in the export is invalid")
    assert export_registry(_hub_database(tmp_path / "target"))["schemas"] == []


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"format": "headwater-schema-registry/1", "schemas": [', "is not valid JSON"),
        (b"\xff\xfe\x00binary", "Cannot read the export file"),
        (b"[1, 2]", "holds a JSON list, not an object"),
        (b'{"format": "karapace-backup"}', "Not a headwater registry export (format 'karapace-backup'"),
    ],
    ids=["truncated", "binary", "list", "other-format"],
)
def test_corrupt_export_file_is_a_one_line_error(content: bytes, problem: str, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_bytes(content)
    assert_one_line_error(run("registry", "import", str(corrupt), state_dir=tmp_path / "target"), problem)


def test_export_without_its_sections_is_a_one_line_error(tmp_path: Path) -> None:
    """The right format marker but no `schemas`, `versions` or `settings`: a hand-edited or cut file."""
    partial = tmp_path / "partial.json"
    partial.write_text('{"format": "headwater-schema-registry/1"}')
    assert_one_line_error(run("registry", "import", str(partial), state_dir=tmp_path / "target"), "schemas")


def test_missing_export_file_is_a_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    result = run("registry", "import", str(missing), state_dir=tmp_path / "target")
    assert_one_line_error(result, f"Cannot read the export file {missing}", "No such file or directory")


def test_export_to_an_unwritable_place_is_a_one_line_error(source: Path, tmp_path: Path) -> None:
    result = run("registry", "export", str(tmp_path / "no-such-folder" / "out.json"), state_dir=source)
    assert_one_line_error(result, "Cannot write the export file", "No such file or directory")


def test_export_from_a_folder_without_a_hub_database_is_a_one_line_error(tmp_path: Path) -> None:
    result = run("registry", "export", str(tmp_path / "out.json"), state_dir=tmp_path / "typo")
    assert_one_line_error(result, "Cannot open the hub database", "hub.db does not exist", "--state-dir")
    assert not (tmp_path / "typo").exists() and not (tmp_path / "out.json").exists()


def test_unreachable_database_is_a_one_line_error_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://headwater:s3cret-word@127.0.0.1:{free_port()}/hub"
    result = run(
        "registry", "export", str(tmp_path / "out.json"), state_dir=tmp_path, env={"HEADWATER_DATABASE_URL": url}
    )
    assert_one_line_error(result, "Cannot open the hub database postgresql+psycopg://headwater:***@127.0.0.1")
    assert "s3cret-word" not in result.stderr + result.stdout


def test_grant_lets_an_identity_write_the_subject(tmp_path: Path) -> None:
    state = tmp_path / "state"
    owner, stranger = f"svc-{uuid.uuid4().hex[:8]}", f"svc-{uuid.uuid4().hex[:8]}"
    ledger = open_ledger(LocalSettings(state_dir=state))
    ledger.issue(owner, "payments")
    ledger.issue(stranger, "payments")

    granted = run("registry", "grant", "team/payments-value", owner, state_dir=state)
    assert granted.returncode == 0, granted.stderr
    assert f"Granted identity {owner} write access to subject team/payments-value" in granted.stdout
    again = run("registry", "grant", "team/payments-value", owner, state_dir=state)
    assert again.returncode == 0, again.stderr

    registry = SchemaRegistry(_hub_database(state), SHIPPED_POLICIES)
    assert registry.may_write("team/payments-value", owner) is True
    assert registry.may_write("team/payments-value", stranger) is False
    assert registry.may_write("team/other-value", owner) is False


def test_grant_to_an_invalid_subject_is_a_one_line_error(tmp_path: Path) -> None:
    state = tmp_path / "state"
    open_ledger(LocalSettings(state_dir=state)).issue("svc-known", "payments")
    result = run("registry", "grant", "bad\tsubject", "svc-known", state_dir=state)
    assert_one_line_error(result, "is not valid: it contains control characters")


def test_grant_in_a_folder_without_a_hub_database_is_a_one_line_error(tmp_path: Path) -> None:
    result = run("registry", "grant", "payments-value", "svc-any", state_dir=tmp_path / "typo")
    assert_one_line_error(result, "hub.db does not exist", "--state-dir")


def test_grant_to_an_unknown_identity_is_a_one_line_error(tmp_path: Path) -> None:
    state = tmp_path / "state"
    open_ledger(LocalSettings(state_dir=state)).issue("svc-known", "payments")
    result = run("registry", "grant", "payments-value", "svc-never-issued", state_dir=state)
    assert_one_line_error(result, "svc-never-issued", "headwater ca issue")
