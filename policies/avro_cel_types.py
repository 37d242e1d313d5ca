"""A CEL type environment for one Avro record schema: `record` typed as a protobuf message mirroring it,
so data rules are type-checked (`record.currency > 1` is refused, not a violation at every send).

Mapping: string and enum → string; int, long, date and timestamps → int; float, double and decimal →
double; boolean → bool; bytes and fixed → bytes; records → messages; arrays → repeated fields; maps →
`map(string, ...)`; a union of null and one scalar → its protobuf wrapper (so `record.note != null`
checks), of null and a record → the message. Other unions and nested arrays or maps have no mirror:
`typed_environment` returns None and the rules are checked against `map(string, dyn)` only.

`field_converters` turns a record's values into what the typed environment says they are (a decimal
into a double, an instant into epoch milliseconds or microseconds, a date into days), so a rule that
type-checks is evaluated on the values it was checked against.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final

from cel_expr_python import cel
from cel_expr_python.ext.ext_strings import ExtStrings
from google.protobuf import descriptor_pb2, descriptor_pool, wrappers_pb2

PACKAGE: Final = "headwater.record"
_Field = descriptor_pb2.FieldDescriptorProto
_SCALARS: Final = {
    "string": (_Field.TYPE_STRING, "StringValue"),
    "int": (_Field.TYPE_INT64, "Int64Value"),
    "long": (_Field.TYPE_INT64, "Int64Value"),
    "float": (_Field.TYPE_DOUBLE, "DoubleValue"),
    "double": (_Field.TYPE_DOUBLE, "DoubleValue"),
    "boolean": (_Field.TYPE_BOOL, "BoolValue"),
    "bytes": (_Field.TYPE_BYTES, "BytesValue"),
}
_LOGICAL: Final = {"decimal": "double", "timestamp-millis": "long", "timestamp-micros": "long", "date": "int"}
_counter = itertools.count()
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY: Final = date(1970, 1, 1).toordinal()
Converter = Callable[[Any], Any]


def record_field_names(schema: object) -> list[str]:
    """A record schema's top-level field names (Avro JSON data); none for other schemas (a string, say)."""
    if not isinstance(schema, Mapping):
        return []
    return [str(field["name"]) for field in schema.get("fields", [])]


class _NoMirror(Exception):
    pass


@dataclass(frozen=True)
class TypedEnvironment:
    env: cel.Env
    pool: descriptor_pool.DescriptorPool
    """Held with the environment: it refers to the pool's descriptors without keeping the pool alive."""

    def compile(self, expression: str) -> cel.Expression:
        return self.env.compile(expression)


def typed_environment(schema: object, variable: str) -> TypedEnvironment | None:
    """An environment where `variable` is the record `schema` describes, or None when it has no mirror."""
    if not isinstance(schema, Mapping) or schema.get("type") != "record":
        return None
    # Each environment gets its own package: two schemas may name different records alike.
    package = f"{PACKAGE}.s{next(_counter)}"
    file = descriptor_pb2.FileDescriptorProto(
        name=f"{package}.proto", package=package, syntax="proto3", dependency=["google/protobuf/wrappers.proto"]
    )
    try:
        root = _Mirror(file, package).message(schema)
        pool = descriptor_pool.DescriptorPool()
        pool.AddSerializedFile(wrappers_pb2.DESCRIPTOR.serialized_pb)
        pool.Add(file)
        # An invalid file is logged by the pool, not raised: look the message up to know.
        pool.FindMessageTypeByName(f"{package}.{root}")
    except (_NoMirror, TypeError, KeyError, ValueError):
        return None
    env = cel.NewEnv(pool, variables={variable: cel.Type(f"{package}.{root}")}, extensions=[ExtStrings()])
    return TypedEnvironment(env, pool)


class _Mirror:
    def __init__(self, file: descriptor_pb2.FileDescriptorProto, package: str) -> None:
        self._file, self._package = file, package
        self._names: dict[str, str] = {}
        self._named: dict[str, Mapping[str, Any]] = {}
        """Named types seen so far (records, enums, fixed), by short and full name, for references."""

    def _resolve(self, schema: object) -> object:
        if isinstance(schema, str) and schema in self._named:
            return self._named[schema]
        if isinstance(schema, Mapping) and "name" in schema:
            name = str(schema["name"])
            namespace = schema.get("namespace")
            self._named[name] = schema
            self._named[f"{namespace}.{name}" if namespace and "." not in name else name] = schema
        return schema

    def message(self, schema: Mapping[str, Any]) -> str:
        self._resolve(schema)
        full = str(schema["name"])
        if full in self._names:
            return self._names[full]
        name = f"M{len(self._names)}_{full.replace('.', '_')}"
        self._names[full] = name
        message = self._file.message_type.add(name=name)
        for number, field in enumerate(schema["fields"], start=1):
            self._field(message, field["name"], number, field["type"])
        return name

    def _field(self, message: descriptor_pb2.DescriptorProto, name: str, number: int, schema: object) -> None:
        field = message.field.add(name=name, number=number, label=_Field.LABEL_OPTIONAL)
        schema = self._resolve(schema)
        if isinstance(schema, list):
            others = [branch for branch in schema if branch != "null"]
            if len(others) != 1 or len(schema) != 2:
                raise _NoMirror("a union other than null and one type")
            self._nullable(field, others[0])
            return
        if isinstance(schema, Mapping) and schema.get("type") == "array":
            field.label = _Field.LABEL_REPEATED
            self._single(field, schema["items"])
            return
        if isinstance(schema, Mapping) and schema.get("type") == "map":
            # protoc's name for a map field's entry type, which the descriptor pool insists on.
            entry = message.nested_type.add(
                name="".join(part[:1].upper() + part[1:] for part in name.split("_")) + "Entry"
            )
            entry.options.map_entry = True
            entry.field.add(name="key", number=1, type=_Field.TYPE_STRING, label=_Field.LABEL_OPTIONAL)
            self._single(entry.field.add(name="value", number=2, label=_Field.LABEL_OPTIONAL), schema["values"])
            field.label = _Field.LABEL_REPEATED
            field.type, field.type_name = _Field.TYPE_MESSAGE, f".{self._package}.{message.name}.{entry.name}"
            return
        self._single(field, schema)

    def _nullable(self, field: _Field, schema: object) -> None:
        schema = self._resolve(schema)
        kind = _kind(schema)
        if kind in _SCALARS:
            field.type, field.type_name = _Field.TYPE_MESSAGE, f".google.protobuf.{_SCALARS[kind][1]}"
        else:
            self._single(field, schema)

    def _single(self, field: _Field, schema: object) -> None:
        schema = self._resolve(schema)
        kind = _kind(schema)
        if kind in _SCALARS:
            field.type = _SCALARS[kind][0]
        elif kind == "record":
            assert isinstance(schema, Mapping)
            field.type, field.type_name = _Field.TYPE_MESSAGE, f".{self._package}.{self.message(schema)}"
        else:
            raise _NoMirror(f"type {kind}")


def _kind(schema: object) -> str:
    """The scalar kind a schema is read as in CEL, `record`, or what has no mirror."""
    if isinstance(schema, str):
        return schema
    if not isinstance(schema, Mapping):
        return "union"
    logical = schema.get("logicalType")
    if logical in _LOGICAL:
        return _LOGICAL[str(logical)]
    kind = str(schema.get("type"))
    if kind == "enum":
        return "string"
    if kind == "fixed":
        return "bytes"
    return kind


def field_converters(schema: object) -> dict[str, Converter]:
    """For each top-level field of a record schema whose values CEL reads differently from how Python
    holds them, the conversion; fields not listed are passed as they are."""
    if not isinstance(schema, Mapping) or schema.get("type") != "record":
        return {}
    builder = _Converters()
    found = {}
    for field in schema["fields"]:
        converter = builder.of(field["type"], str(schema.get("namespace", "")))
        if converter is not None:
            found[str(field["name"])] = converter
    return found


class _Converters:
    """Conversions of a schema's values, each named type worked out once: a schema referring to a type
    from several fields would otherwise be walked once per path (twice as often with each level of a
    type using the one before it twice), and a record referring to itself would never end."""

    def __init__(self) -> None:
        self._named: dict[str, Mapping[str, Any]] = {}
        self._done: dict[str, Converter | None] = {}

    def of(self, schema: object, namespace: str) -> Converter | None:
        """The conversion of one schema's values, or None when they are read as they are. Values of a
        type the schema does not expect are passed as they are (the encoder refuses them)."""
        if isinstance(schema, str):
            schema = self._named.get(schema) or self._named.get(f"{namespace}.{schema}") or schema
        if isinstance(schema, list):
            branches = [self.of(branch, namespace) for branch in schema if branch != "null"]
            if len(branches) != 1 or branches[0] is None:
                return None
            inner = branches[0]
            return lambda value: None if value is None else inner(value)
        if not isinstance(schema, Mapping):
            return None
        if "name" not in schema:
            return self._of_type(schema, namespace)
        space = str(schema.get("namespace", namespace))
        name = str(schema["name"])
        full_name = name if "." in name else f"{space}.{name}" if space else name
        if full_name in self._done:
            return self._done[full_name]
        if full_name in self._named:
            # Met again while still being worked out: a recursive reference, converted as the type turns out.
            return lambda value: self._finished(full_name, value)
        self._named[full_name] = schema
        self._named.setdefault(name, schema)
        self._done[full_name] = self._of_type(schema, space)
        return self._done[full_name]

    def _finished(self, full_name: str, value: Any) -> Any:
        converter = self._done[full_name]
        return value if converter is None else converter(value)

    def _of_type(self, schema: Mapping[str, Any], namespace: str) -> Converter | None:
        logical, kind = schema.get("logicalType"), schema.get("type")
        if logical == "decimal":
            return _decimal_as_double
        if logical in ("timestamp-millis", "timestamp-micros") and kind == "long":
            return _epoch_millis if logical == "timestamp-millis" else _epoch_micros
        if logical == "date" and kind == "int":
            return _epoch_days
        if kind == "record":
            fields = {str(field["name"]): self.of(field["type"], namespace) for field in schema["fields"]}
            converting = {name: converter for name, converter in fields.items() if converter is not None}
            if not converting:
                return None
            return lambda value: (
                {name: converting[name](item) if name in converting else item for name, item in value.items()}
                if isinstance(value, Mapping)
                else value
            )
        if kind in ("array", "map"):
            inner = self.of(schema["items" if kind == "array" else "values"], namespace)
            if inner is None:
                return None
            if kind == "array":
                return lambda value: [inner(item) for item in value] if isinstance(value, list | tuple) else value
            return lambda value: (
                {key: inner(item) for key, item in value.items()} if isinstance(value, Mapping) else value
            )
        return None


def _decimal_as_double(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def epoch_micros(moment: datetime) -> int:
    """Microseconds from 1970-01-01 UTC to an aware datetime: the long Avro stores (divided by 1000 for
    timestamp-millis, rounding down). Exact integer arithmetic, equal to fastavro's."""
    since = moment - _EPOCH
    return (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds


def epoch_days(day: date) -> int:
    """Days from 1970-01-01 to a date: the int Avro stores for the date logical type."""
    return day.toordinal() - _EPOCH_DAY


def _epoch_micros(value: Any) -> Any:
    if not isinstance(value, datetime):
        return value
    # Naive means local time, as fastavro reads it.
    return epoch_micros(value if value.tzinfo is not None else value.astimezone())


def _epoch_millis(value: Any) -> Any:
    micros = _epoch_micros(value)
    return micros // 1000 if isinstance(value, datetime) else micros


def _epoch_days(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return epoch_days(value)
    return value
