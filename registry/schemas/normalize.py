"""The normalised text of a schema (Confluent's `normalize=true`), written from the typed tree.

Equivalent spellings of one schema give one normalised text:
- a primitive without annotations is a plain string: {"type": "int"} becomes "int";
- a named type is written with its full name and no namespace key; the key appears only as "" when a
  type in the null namespace sits inside a namespaced one, because its plain name would otherwise inherit
  the enclosing namespace;
- a reference to a named type is its full name;
- aliases are full names, sorted; order "ascending" (the default) is left out; decimal scale is explicit;
- keys come in one fixed order: type, name, namespace, doc, aliases, the type's own attributes, the logical
  type, then any other attributes sorted by key; a field's keys are name, type, default, order, aliases,
  doc, then its other attributes sorted by key.
What carries meaning is kept as written: field order, symbol order, defaults, doc and other attributes.
"""

import json

from .names import namespace_of
from .types import (
    Array,
    AvroType,
    DecimalLogicalType,
    Enum,
    Field,
    FieldOrder,
    JsonValue,
    LogicalAnnotation,
    Map,
    NamedType,
    Primitive,
    Properties,
    Record,
    Union,
    type_name_of,
)


def normalized_text_of(root: AvroType) -> str:
    """Compact JSON of the normalised schema; key order is the fixed order above, not sorted."""
    return json.dumps(_NormalizedWriter().write(root, None), separators=(",", ":"), ensure_ascii=False)


class _NormalizedWriter:
    def __init__(self) -> None:
        # The first occurrence of a named type, in the parser's own depth-first order, is its definition.
        self._defined: set[str] = set()

    def write(self, avro_type: AvroType, namespace: str | None) -> JsonValue:
        if isinstance(avro_type, Primitive):
            return _primitive(avro_type)
        if isinstance(avro_type, Array):
            items = self.write(avro_type.items, namespace)
            return {"type": "array", "items": items, **_extras(None, avro_type.properties)}
        if isinstance(avro_type, Map):
            values = self.write(avro_type.values, namespace)
            return {"type": "map", "values": values, **_extras(None, avro_type.properties)}
        if isinstance(avro_type, Union):
            return [self.write(branch, namespace) for branch in avro_type.branches]
        if avro_type.full_name in self._defined:
            return avro_type.full_name
        self._defined.add(avro_type.full_name)
        return {**_name_header(avro_type, namespace), **self._body(avro_type)}

    def _body(self, named_type: NamedType) -> dict[str, JsonValue]:
        if isinstance(named_type, Record):
            inner_namespace = namespace_of(named_type.full_name)
            fields = [self._field(field, inner_namespace) for field in named_type.fields]
            return {"fields": fields, **_extras(None, named_type.properties)}
        if isinstance(named_type, Enum):
            default: dict[str, JsonValue] = {} if named_type.default is None else {"default": named_type.default}
            return {"symbols": list(named_type.symbols), **default, **_extras(None, named_type.properties)}
        return {"size": named_type.size, **_extras(named_type.logical_type, named_type.properties)}

    def _field(self, field: Field, namespace: str | None) -> JsonValue:
        written: dict[str, JsonValue] = {"name": field.name, "type": self.write(field.type, namespace)}
        if field.default is not None:
            written["default"] = field.default.value
        if field.order is not FieldOrder.ASCENDING:
            written["order"] = field.order.value
        if field.aliases:
            written["aliases"] = _sorted_names(field.aliases)
        if field.doc is not None:
            written["doc"] = field.doc
        return {**written, **dict(field.properties)}


def _primitive(primitive: Primitive) -> JsonValue:
    if primitive.logical_type is None and not primitive.properties:
        return primitive.kind.value
    return {"type": primitive.kind.value, **_extras(primitive.logical_type, primitive.properties)}


def _name_header(named_type: NamedType, enclosing_namespace: str | None) -> dict[str, JsonValue]:
    header: dict[str, JsonValue] = {"type": type_name_of(named_type), "name": named_type.full_name}
    if named_type.namespace is None and enclosing_namespace is not None:
        header["namespace"] = ""
    if named_type.doc is not None:
        header["doc"] = named_type.doc
    if named_type.aliases:
        header["aliases"] = _sorted_names(named_type.aliases)
    return header


def _sorted_names(names: tuple[str, ...]) -> list[JsonValue]:
    return list(sorted(names))


def _extras(logical_type: LogicalAnnotation | None, properties: Properties) -> dict[str, JsonValue]:
    """The logical type's attributes, then the node's other attributes (already sorted by key)."""
    return {**_logical_attributes(logical_type), **dict(properties)}


def _logical_attributes(logical_type: LogicalAnnotation | None) -> dict[str, JsonValue]:
    if logical_type is None:
        return {}
    if isinstance(logical_type, DecimalLogicalType):
        return {"logicalType": "decimal", "precision": logical_type.precision, "scale": logical_type.scale}
    return {"logicalType": logical_type.name}
