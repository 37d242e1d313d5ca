"""Flatten a parsed Avro schema into the typed tree policy rules read (`headwater.policies.SchemaTree`)."""

from __future__ import annotations

from headwater.policies import SchemaField, SchemaTree
from headwater.registry.schemas import AvroSchema
from headwater.registry.schemas.types import (
    Array,
    AvroType,
    Field,
    Map,
    Primitive,
    PrimitiveKind,
    Record,
    Union,
    type_name_of,
)

TAG_PROPERTIES = ("tags", "confluent:tags")
"""Field attributes read as tags: headwater's own, and the one Confluent's data contracts use."""


def subject_role(subject: str) -> str:
    """`key` for `<topic>-key` subjects (Confluent's TopicNameStrategy), `value` for any other."""
    return "key" if subject.endswith("-key") else "value"


def schema_tree(subject: str, schema: AvroSchema) -> SchemaTree:
    """Every field of every record reachable from the root, parents before children, with dotted paths.

    A record is expanded once, where it is first reached: a recursive schema stays finite, and a type
    reused by several fields is reported (and checked) at its first use."""
    fields: list[SchemaField] = []
    _collect(schema.root, "", fields, set())
    return SchemaTree(
        subject=subject, role=subject_role(subject), root_type=type_name_of(schema.root), fields=tuple(fields)
    )


def _collect(avro_type: AvroType, prefix: str, out: list[SchemaField], expanded: set[str]) -> None:
    if isinstance(avro_type, Record):
        if avro_type.full_name in expanded:
            return
        expanded.add(avro_type.full_name)
        for field in avro_type.fields:
            path = f"{prefix}{field.name}"
            out.append(_schema_field(field, path))
            _collect(field.type, f"{path}.", out, expanded)
    elif isinstance(avro_type, Array):
        _collect(avro_type.items, prefix, out, expanded)
    elif isinstance(avro_type, Map):
        _collect(avro_type.values, prefix, out, expanded)
    elif isinstance(avro_type, Union):
        for branch in avro_type.branches:
            _collect(branch, prefix, out, expanded)


def _schema_field(field: Field, path: str) -> SchemaField:
    return SchemaField(
        path=path,
        name=field.name,
        type=_type_name(field.type),
        doc=field.doc or "",
        tags=_tags(field),
        has_default=field.default is not None,
        nullable=_nullable(field.type),
    )


def _type_name(avro_type: AvroType) -> str:
    """The type keyword; for a union, its one non-null branch's keyword, or `union` when there are several."""
    if isinstance(avro_type, Union):
        others = [branch for branch in avro_type.branches if not _is_null(branch)]
        return type_name_of(others[0]) if len(others) == 1 else "union"
    return type_name_of(avro_type)


def _nullable(avro_type: AvroType) -> bool:
    return isinstance(avro_type, Union) and any(_is_null(branch) for branch in avro_type.branches)


def _is_null(avro_type: AvroType) -> bool:
    return isinstance(avro_type, Primitive) and avro_type.kind is PrimitiveKind.NULL


def _tags(field: Field) -> tuple[str, ...]:
    tags: list[str] = []
    for key, value in field.properties:
        if key in TAG_PROPERTIES and isinstance(value, list):
            tags.extend(str(tag) for tag in value if isinstance(tag, str) and tag not in tags)
    return tuple(tags)
