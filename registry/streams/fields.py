"""The catalog's copy of a stream's schema fields (`stream_fields`), kept equal to the latest versions."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from headwater.policies import SchemaTree
from headwater.registry.models import Stream, StreamField
from headwater.registry.schema_registry_errors import InvalidSchemaVersionError


def refuse_nul_text(tree: SchemaTree) -> None:
    """Docs and tags are stored as text, which PostgreSQL cannot hold with U+0000 in it."""
    for field in tree.fields:
        if "\x00" in field.doc or any("\x00" in tag for tag in field.tags):
            raise InvalidSchemaVersionError(
                f"Field '{field.path}' of '{tree.subject}' has a NUL character (U+0000) in its doc or tags; remove it."
            )


def replace_stream_fields(session: Session, stream: Stream, role: str, tree: SchemaTree) -> None:
    """Store `tree` as the stream's `role` (key or value) fields, and whether the value holds PII."""
    refuse_nul_text(tree)
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
