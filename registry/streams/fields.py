"""The catalog's copy of a stream's schema fields (`stream_fields`), kept equal to the latest versions."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from headwater.policies import SchemaTree
from headwater.registry.models import Stream, StreamField
from headwater.registry.schema_registry_errors import InvalidSchemaVersionError

MAX_FIELD_NAME = 255
MAX_FIELD_PATH = 1024
"""The catalog's columns for a field's name and dotted path (Avro sets no limit; PostgreSQL enforces these)."""


def refuse_unstorable_fields(tree: SchemaTree) -> None:
    """Refuse what the catalog's columns cannot hold: U+0000 in docs and tags (PostgreSQL text refuses
    it), names and paths longer than their columns."""
    for field in tree.fields:
        shown = field.path if len(field.path) <= 80 else f"{field.path[:80]}..."
        if "\x00" in field.doc or any("\x00" in tag for tag in field.tags):
            raise InvalidSchemaVersionError(
                f"Field '{shown}' of '{tree.subject}' has a NUL character (U+0000) in its doc or tags; remove it."
            )
        if len(field.name) > MAX_FIELD_NAME or len(field.path) > MAX_FIELD_PATH:
            raise InvalidSchemaVersionError(
                f"Field '{shown}' of '{tree.subject}' has a name longer than {MAX_FIELD_NAME} characters or a "
                f"dotted path longer than {MAX_FIELD_PATH}, more than the catalog stores; use shorter names."
            )


def replace_stream_fields(session: Session, stream: Stream, role: str, tree: SchemaTree) -> None:
    """Store `tree` as the stream's `role` (key or value) fields, and whether the value holds PII."""
    refuse_unstorable_fields(tree)
    session.execute(delete(StreamField).where(StreamField.stream == stream.name, StreamField.role == role))
    for field in tree.fields:
        session.add(
            StreamField(
                stream=stream.name,
                role=role,
                path=field.path,
                name=field.name,
                type=field.type,
                doc=field.doc,
                tags=list(field.tags),
                search_name=field.name.lower(),
                search_path=field.path.lower(),
            )
        )
    if role == "value":
        stream.has_pii = any("pii" in field.tags for field in tree.fields)
