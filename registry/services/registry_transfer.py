"""Move a whole schema registry between hubs (SQLite to PostgreSQL included), keeping every schema id:
records already in Kafka carry those ids, so a copy that renumbered them would orphan the records."""

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from headwater.registry.governance.contexts import DATABASE_OPERATOR
from headwater.registry.models import RegistrySetting, SchemaText, SubjectVersion
from headwater.registry.schema_registry_errors import (
    InvalidSchemaVersionError,
    OperationNotPermittedError,
    SchemaIdConflictError,
)
from headwater.registry.schemas import InvalidSchemaError, parse_schema
from headwater.registry.services.audit import DONE, record_audit
from headwater.registry.services.schema_ids import lock_schema_ids, record_schema_id
from headwater.registry.services.schema_registry import GLOBAL_TARGET, schema_fingerprint

EXPORT_FORMAT = "headwater-schema-registry/1"


@dataclass(frozen=True)
class TransferCounts:
    schemas: int
    versions: int
    settings: int


def export_registry(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """Every schema (with its id), every subject version (soft-deleted ones too) and every setting."""
    with sessions() as session:
        schemas = session.scalars(select(SchemaText).order_by(SchemaText.id))
        versions = session.scalars(select(SubjectVersion).order_by(SubjectVersion.subject, SubjectVersion.version))
        settings = session.scalars(select(RegistrySetting).order_by(RegistrySetting.scope))
        return {
            "format": EXPORT_FORMAT,
            "schemas": [
                {
                    "id": row.id,
                    "schema_type": row.schema_type,
                    "schema": row.text,
                    "created_at": row.created_at.isoformat(),
                }
                for row in schemas
            ],
            "versions": [
                {
                    "subject": row.subject,
                    "version": row.version,
                    "id": row.schema_id,
                    "deleted": row.deleted,
                    "created_at": row.created_at.isoformat(),
                }
                for row in versions
            ],
            "settings": [
                {"scope": row.scope, "compatibility": row.compatibility, "mode": row.mode} for row in settings
            ],
        }


def import_registry(sessions: sessionmaker[Session], document: dict[str, Any]) -> TransferCounts:
    """Load an export into an EMPTY registry in one transaction: all of it, or nothing."""
    if document.get("format") != EXPORT_FORMAT:
        raise OperationNotPermittedError(
            f"Not a headwater registry export (format {document.get('format')!r}, expected {EXPORT_FORMAT!r})."
        )
    schemas, versions, settings = (_section(document, name) for name in ("schemas", "versions", "settings"))
    with sessions.begin() as session:
        lock_schema_ids(session)  # no registration slips in between the check below and the import
        if any(session.scalar(select(func.count()).select_from(table)) for table in _REGISTRY_TABLES):
            raise OperationNotPermittedError(
                "The target registry already holds schemas, versions or settings; "
                "import only into an empty hub so no id can collide."
            )
        try:
            for entry in schemas:
                _check_schema(entry)
                session.add(
                    SchemaText(
                        id=entry["id"],
                        schema_type=entry["schema_type"],
                        text=entry["schema"],
                        fingerprint=schema_fingerprint(entry["schema_type"], entry["schema"]),
                        created_at=datetime.fromisoformat(entry["created_at"]),
                    )
                )
            session.flush()
            known = {entry["id"] for entry in schemas}
            record_schema_id(session, max(known, default=0))
            for entry in versions:
                if entry["id"] not in known:
                    raise SchemaIdConflictError(
                        f"{entry['subject']} version {entry['version']} points at schema id {entry['id']}, "
                        "which the export does not hold."
                    )
                session.add(
                    SubjectVersion(
                        subject=entry["subject"],
                        version=entry["version"],
                        schema_id=entry["id"],
                        deleted=entry["deleted"],
                        created_at=datetime.fromisoformat(entry["created_at"]),
                    )
                )
            for entry in settings:
                session.add(
                    RegistrySetting(scope=entry["scope"], compatibility=entry["compatibility"], mode=entry["mode"])
                )
        except (KeyError, TypeError, ValueError) as exc:
            raise OperationNotPermittedError(
                f"The export has a malformed entry ({exc!r}); nothing was imported."
            ) from exc
        counts = TransferCounts(len(schemas), len(versions), len(settings))
        record_audit(session, DATABASE_OPERATOR.identity, "registry.import", GLOBAL_TARGET, DONE, asdict(counts))
    return counts


_REGISTRY_TABLES = (SchemaText, SubjectVersion, RegistrySetting)


def _section(document: dict[str, Any], name: str) -> list[dict[str, Any]]:
    section = document.get(name)
    if not isinstance(section, list) or not all(isinstance(entry, dict) for entry in section):
        raise OperationNotPermittedError(f"The export has no '{name}' list; it is truncated or not an export.")
    return section


def _check_schema(entry: dict[str, Any]) -> None:
    """The registry never stores an invalid schema, not even through an import."""
    try:
        parse_schema(entry["schema"])
    except InvalidSchemaError as exc:
        raise InvalidSchemaVersionError(f"Schema id {entry['id']} in the export is invalid: {exc}") from exc


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
