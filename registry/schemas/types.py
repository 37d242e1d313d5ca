"""The typed tree an Avro schema parses into.

A reference to a named type (record, enum, fixed) is the very node that defines it, so a recursive
schema is a cyclic graph. That is why `Record` compares by identity: generated structural equality
would recurse forever around a cycle, and within one schema a full name identifies one node anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

JsonValue: TypeAlias = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]
"""Raw JSON, used only for field defaults and for attributes the Avro specification does not define."""

Properties: TypeAlias = tuple[tuple[str, JsonValue], ...]
"""Attributes outside the specification (e.g. "connect.name"), sorted by key; kept because they are part of
what the author registered."""


class PrimitiveKind(StrEnum):
    NULL = "null"
    BOOLEAN = "boolean"
    INT = "int"
    LONG = "long"
    FLOAT = "float"
    DOUBLE = "double"
    BYTES = "bytes"
    STRING = "string"


class FieldOrder(StrEnum):
    ASCENDING = "ascending"
    DESCENDING = "descending"
    IGNORE = "ignore"


@dataclass(frozen=True)
class LogicalType:
    """A logical type without parameters (date, uuid, timestamp-millis, ...) on a type that supports it."""

    name: str


@dataclass(frozen=True)
class DecimalLogicalType:
    """The decimal logical type; `scale` is 0 when the schema omits it, as the specification says."""

    precision: int
    scale: int


LogicalAnnotation: TypeAlias = LogicalType | DecimalLogicalType


@dataclass(frozen=True)
class Primitive:
    kind: PrimitiveKind
    logical_type: LogicalAnnotation | None = None
    properties: Properties = ()


@dataclass(frozen=True)
class Array:
    items: AvroType
    properties: Properties = ()


@dataclass(frozen=True)
class Map:
    values: AvroType
    properties: Properties = ()


@dataclass(frozen=True)
class Union:
    branches: tuple[AvroType, ...]


class _NamedType:
    """Name accessors shared by records, enums and fixed types, all derived from the full name."""

    full_name: str

    @property
    def name(self) -> str:
        """The unqualified name, the part after the last dot."""
        return self.full_name.rpartition(".")[2]

    @property
    def namespace(self) -> str | None:
        """The namespace, or None for the null namespace."""
        return self.full_name.rpartition(".")[0] or None


@dataclass(frozen=True)
class Fixed(_NamedType):
    full_name: str
    size: int
    aliases: tuple[str, ...] = ()
    doc: str | None = None
    logical_type: LogicalAnnotation | None = None
    properties: Properties = ()


@dataclass(frozen=True)
class Enum(_NamedType):
    full_name: str
    symbols: tuple[str, ...]
    default: str | None = None
    aliases: tuple[str, ...] = ()
    doc: str | None = None
    properties: Properties = ()


@dataclass(frozen=True)
class Default:
    """A field's default value; a wrapper so that "no default" (None) differs from a JSON null default."""

    value: JsonValue


@dataclass(frozen=True)
class Field:
    name: str
    type: AvroType
    default: Default | None = None
    order: FieldOrder = FieldOrder.ASCENDING
    aliases: tuple[str, ...] = ()
    doc: str | None = None
    properties: Properties = ()


@dataclass(frozen=True, eq=False)
class Record(_NamedType):
    """A record; `aliases` are full names. Equality is identity (see the module docstring)."""

    full_name: str
    fields: tuple[Field, ...]
    aliases: tuple[str, ...] = ()
    doc: str | None = None
    properties: Properties = ()


NamedType: TypeAlias = Record | Enum | Fixed
AvroType: TypeAlias = Primitive | Record | Enum | Fixed | Array | Map | Union


def type_name_of(avro_type: AvroType) -> str:
    """The Avro type keyword of a node: "int", "record", "array", "union", ..."""
    if isinstance(avro_type, Primitive):
        return avro_type.kind.value
    return _TYPE_NAMES[type(avro_type)]


_TYPE_NAMES: dict[type, str] = {
    Record: "record",
    Enum: "enum",
    Fixed: "fixed",
    Array: "array",
    Map: "map",
    Union: "union",
}


def describe_type(avro_type: AvroType) -> str:
    """The type keyword, followed by the full name for named types: "long", "record com.acme.Order"."""
    if isinstance(avro_type, Record | Enum | Fixed):
        return f"{type_name_of(avro_type)} {avro_type.full_name}"
    return type_name_of(avro_type)
