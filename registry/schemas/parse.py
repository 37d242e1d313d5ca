"""Parse Avro schema JSON into the typed tree of `types`, validating everything (specification, "Schemas").

The builder refuses, with the path of the offending attribute: unknown type names (including names
referenced before their definition), invalid or redefined names, primitive names used as named types,
duplicate field names and enum symbols, unions that repeat a branch type or nest a union, negative or
non-integer fixed sizes, enum defaults that are not symbols and field defaults that do not match their
type (see `defaults`). Attributes must have the JSON types the specification gives: doc and namespace
are strings, aliases are arrays of strings.

Choices where implementations differ:
- A name without a dot is looked up in the enclosing namespace and then in the null namespace, as Avro Java
  does; without that fallback a type in the null namespace could not be referred to from inside a namespace.
- {"type": "SomeName"} refers to a defined named type, as Avro Java accepts.
- "error" (a record kind for protocol messages) is refused: a registry schema is not a protocol.
- Field `order` must be written in lower case, as the specification spells it.
- Limits the specification does not set: JSON nesting (`json_text.MAX_JSON_DEPTH`), type nesting
  (`MAX_AVRO_NESTING`), and no lone surrogate in any string (UTF-8, which Avro strings are, cannot
  encode one). Parsers, checkers and clients walk schemas recursively, Python's included; without a
  limit, a schema a few hundred levels deep makes them fail.

Avro Java 1.12 accepts several things refused here: references to types defined later in the text, "error",
a `null` namespace, a non-string doc, upper-case order, and (see `defaults`) union defaults matching a later
branch, enum defaults that are no symbol and fixed defaults of the wrong length.
"""

import json
import math
from collections.abc import Callable, Mapping
from typing import Final, TypeAlias, TypeVar

from .defaults import check_default
from .errors import InvalidSchemaError, JsonTooDeepError, SchemaJsonTooDeepError, SchemaNestingTooDeepError
from .json_text import decode_json, first_string_problem, lone_surrogate_in, printable
from .logical import logical_type_of
from .names import NAME_RULE, PRIMITIVE_NAMES, full_name_of, is_valid_full_name, is_valid_name, namespace_of
from .types import (
    Array,
    AvroType,
    Default,
    Enum,
    Field,
    FieldOrder,
    Fixed,
    JsonValue,
    Map,
    NamedType,
    Primitive,
    PrimitiveKind,
    Properties,
    Record,
    Union,
    type_name_of,
)

_JsonObject: TypeAlias = dict[str, JsonValue]
_Value = TypeVar("_Value")

_NAMED_KEYS = frozenset({"type", "name", "namespace", "doc", "aliases"})
_RECORD_KEYS = _NAMED_KEYS | {"fields"}
_ENUM_KEYS = _NAMED_KEYS | {"symbols", "default"}
_FIXED_KEYS = _NAMED_KEYS | {"size"}
_FIELD_KEYS = frozenset({"name", "type", "default", "order", "aliases", "doc"})
_ORDERS = ", ".join(order.value for order in FieldOrder)

MAX_AVRO_NESTING: Final = 64
"""Types inside types: records, arrays, maps and unions add a level each, and a named type counts its
own levels wherever it is used. Real schemas stay far below; Python's recursion limit lies far above."""


def load_schema_json(text: str) -> JsonValue:
    """Decode schema text as strict JSON: the non-standard literals NaN and Infinity, nesting beyond
    `MAX_JSON_DEPTH` and lone surrogates are refused."""
    try:
        value = decode_json(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except JsonTooDeepError as error:
        raise SchemaJsonTooDeepError(error.limit) from None
    except json.JSONDecodeError as error:
        raise InvalidSchemaError(
            f"schema text is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    _refuse_lone_surrogates(value)
    return value


def _refuse_lone_surrogates(value: JsonValue) -> None:
    found = first_string_problem(value, lone_surrogate_in)
    if found is not None:
        path, surrogate = found
        raise InvalidSchemaError(
            f"a string holds the lone surrogate {surrogate}, which UTF-8 cannot encode; "
            "write the character itself, or a surrogate pair",
            printable(path),
        )


def _refuse_constant(literal: str) -> float:
    raise InvalidSchemaError(f"schema text is not valid JSON: {literal} is not a JSON value")


def _finite_float(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise InvalidSchemaError(f"schema text is not valid JSON: number {literal} is out of range")
    return number


def build_tree(raw: JsonValue) -> AvroType:
    """Build and validate the typed tree of a decoded schema."""
    return _TreeBuilder().build(raw)


class _TreeBuilder:
    def __init__(self) -> None:
        self._named_types: dict[str, NamedType] = {}
        self._nesting = 0
        """Types being built around (and including) the current one."""
        # Defaults are checked once the whole tree exists: a default may hold a record whose fields are
        # still being parsed when the default is read (a recursive type that refers to itself).
        self._defaults: list[tuple[JsonValue, AvroType, str]] = []
        self._complex_parsers: Mapping[str, Callable[[_JsonObject, str, str | None], AvroType]] = {
            "record": self._record,
            "enum": self._enum,
            "fixed": self._fixed,
            "array": self._array,
            "map": self._map,
        }

    def build(self, raw: JsonValue) -> AvroType:
        root = self._type(raw, "", None)
        # Written out, the types nest as deep as `_type` allows; references can take them deeper.
        if nesting_of(root) > MAX_AVRO_NESTING:
            raise SchemaNestingTooDeepError(MAX_AVRO_NESTING, "")
        for value, avro_type, path in self._defaults:
            check_default(value, avro_type, path)
        return root

    def _type(self, raw: JsonValue, path: str, namespace: str | None) -> AvroType:
        self._nesting += 1
        try:
            if self._nesting > MAX_AVRO_NESTING:
                raise SchemaNestingTooDeepError(MAX_AVRO_NESTING, path)
            return self._type_at(raw, path, namespace)
        finally:
            self._nesting -= 1

    def _type_at(self, raw: JsonValue, path: str, namespace: str | None) -> AvroType:
        if isinstance(raw, str):
            return self._type_by_name(raw, path, namespace)
        if isinstance(raw, list):
            return self._union(raw, path, namespace)
        if isinstance(raw, dict):
            return self._type_object(raw, path, namespace)
        raise InvalidSchemaError(f"a type must be a type name, an array (a union) or an object, got {_show(raw)}", path)

    def _type_by_name(self, name: str, path: str, namespace: str | None) -> AvroType:
        if name in PRIMITIVE_NAMES:
            return Primitive(PrimitiveKind(name))
        for candidate in (full_name_of(name, namespace), name):
            if candidate in self._named_types:
                return self._named_types[candidate]
        raise InvalidSchemaError(f"unknown type name '{name}'", path)

    def _type_object(self, raw: _JsonObject, path: str, namespace: str | None) -> AvroType:
        type_name = _required(raw, "type", str, "a string", path)
        parse_complex = self._complex_parsers.get(type_name)
        if parse_complex is not None:
            return parse_complex(raw, path, namespace)
        if type_name in PRIMITIVE_NAMES:
            return _primitive(raw, PrimitiveKind(type_name))
        return self._type_by_name(type_name, f"{path}/type", namespace)

    def _union(self, raw: list[JsonValue], path: str, namespace: str | None) -> Union:
        branches: list[AvroType] = []
        seen: set[str] = set()
        for index, raw_branch in enumerate(raw):
            branch_path = f"{path}/{index}"
            branch = self._type(raw_branch, branch_path, namespace)
            if isinstance(branch, Union):
                raise InvalidSchemaError("a union cannot directly contain another union", branch_path)
            # Named types may repeat their kind but not their full name; any other type may appear once.
            key = branch.full_name if isinstance(branch, Record | Enum | Fixed) else type_name_of(branch)
            if key in seen:
                raise InvalidSchemaError(f"the union already has a branch '{key}'", branch_path)
            seen.add(key)
            branches.append(branch)
        return Union(tuple(branches))

    def _record(self, raw: _JsonObject, path: str, namespace: str | None) -> Record:
        full_name = _full_name(raw, path, namespace)
        record = Record(full_name, (), _aliases(raw, path, full_name), _doc(raw, path), _properties(raw, _RECORD_KEYS))
        self._register(record, path)
        raw_fields = _required(raw, "fields", list, "an array", path)
        fields = self._fields(raw_fields, path, namespace_of(full_name))
        # Tie the knot of a possibly recursive type: the record had to be registered (and so exist) before
        # its fields could be parsed, and a frozen dataclass offers no other way to complete it.
        object.__setattr__(record, "fields", fields)
        return record

    def _fields(self, raw_fields: list[JsonValue], path: str, namespace: str | None) -> tuple[Field, ...]:
        fields: list[Field] = []
        names: set[str] = set()
        for index, raw_field in enumerate(raw_fields):
            index_path = f"{path}/fields/{index}"
            if not isinstance(raw_field, dict):
                raise InvalidSchemaError(f"a field must be an object, got {_show(raw_field)}", index_path)
            name = _required(raw_field, "name", str, "a string", index_path)
            _check_name(name, "field name", f"{index_path}/name", dotted=False)
            if name in names:
                raise InvalidSchemaError(f"duplicate field name '{name}'", f"{index_path}/name")
            names.add(name)
            fields.append(self._field(raw_field, name, f"{path}/fields/{name}", namespace))
        return tuple(fields)

    def _field(self, raw: _JsonObject, name: str, path: str, namespace: str | None) -> Field:
        if "type" not in raw:
            raise InvalidSchemaError("missing required attribute 'type'", path)
        field_type = self._type(raw["type"], f"{path}/type", namespace)
        default = None
        if "default" in raw:
            default = Default(raw["default"])
            self._defaults.append((raw["default"], field_type, f"{path}/default"))
        aliases = _string_list(raw, "aliases", path)
        for index, alias in enumerate(aliases):
            _check_name(alias, "alias", f"{path}/aliases/{index}", dotted=False)
        return Field(
            name, field_type, default, _order(raw, path), tuple(aliases), _doc(raw, path), _properties(raw, _FIELD_KEYS)
        )

    def _enum(self, raw: _JsonObject, path: str, namespace: str | None) -> Enum:
        full_name = _full_name(raw, path, namespace)
        symbols = _symbols(raw, path)
        default = _optional(raw, "default", str, "a string", path)
        if default is not None and default not in symbols:
            raise InvalidSchemaError(f"default '{default}' is not one of the symbols", f"{path}/default")
        aliases = _aliases(raw, path, full_name)
        enum = Enum(full_name, symbols, default, aliases, _doc(raw, path), _properties(raw, _ENUM_KEYS))
        self._register(enum, path)
        return enum

    def _fixed(self, raw: _JsonObject, path: str, namespace: str | None) -> Fixed:
        full_name = _full_name(raw, path, namespace)
        if "size" not in raw:
            raise InvalidSchemaError("missing required attribute 'size'", path)
        size = raw["size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidSchemaError(f"size must be a non-negative integer, got {_show(size)}", f"{path}/size")
        logical_type, annotation_keys = logical_type_of(raw, ("fixed", size))
        aliases = _aliases(raw, path, full_name)
        properties = _properties(raw, _FIXED_KEYS | annotation_keys)
        fixed = Fixed(full_name, size, aliases, _doc(raw, path), logical_type, properties)
        self._register(fixed, path)
        return fixed

    def _array(self, raw: _JsonObject, path: str, namespace: str | None) -> Array:
        if "items" not in raw:
            raise InvalidSchemaError("missing required attribute 'items'", path)
        return Array(self._type(raw["items"], f"{path}/items", namespace), _properties(raw, {"type", "items"}))

    def _map(self, raw: _JsonObject, path: str, namespace: str | None) -> Map:
        if "values" not in raw:
            raise InvalidSchemaError("missing required attribute 'values'", path)
        return Map(self._type(raw["values"], f"{path}/values", namespace), _properties(raw, {"type", "values"}))

    def _register(self, named_type: NamedType, path: str) -> None:
        if named_type.full_name in self._named_types:
            raise InvalidSchemaError(f"name '{named_type.full_name}' is already defined", f"{path}/name")
        self._named_types[named_type.full_name] = named_type


def nesting_of(root: AvroType) -> int:
    """How many levels of types a walker that follows references meets, stopping where a record refers
    to itself or to a record around it. Exact without such recursion; with it, each record is measured
    where the parser first met it."""
    levels: dict[str, int] = {}  # of each record already measured
    open_records: set[str] = set()

    def measure(avro_type: AvroType) -> int:
        if isinstance(avro_type, Array):
            return 1 + measure(avro_type.items)
        if isinstance(avro_type, Map):
            return 1 + measure(avro_type.values)
        if isinstance(avro_type, Union):
            return 1 + max((measure(branch) for branch in avro_type.branches), default=0)
        if not isinstance(avro_type, Record) or avro_type.full_name in open_records:
            return 1
        # A record is defined before any use, and the walk follows the parser's order: its first
        # meeting measures it, so this recursion goes no deeper than the text nests.
        if avro_type.full_name not in levels:
            open_records.add(avro_type.full_name)
            levels[avro_type.full_name] = 1 + max((measure(field.type) for field in avro_type.fields), default=0)
            open_records.discard(avro_type.full_name)
        return levels[avro_type.full_name]

    return measure(root)


def _primitive(raw: _JsonObject, kind: PrimitiveKind) -> Primitive:
    logical_type, annotation_keys = logical_type_of(raw, (kind.value, None))
    return Primitive(kind, logical_type, _properties(raw, annotation_keys | {"type"}))


def _full_name(raw: _JsonObject, path: str, enclosing_namespace: str | None) -> str:
    name = _required(raw, "name", str, "a string", path)
    namespace = _optional(raw, "namespace", str, "a string", path)
    _check_name(name, "name", f"{path}/name", dotted=True)
    if name.rpartition(".")[2] in PRIMITIVE_NAMES:
        raise InvalidSchemaError(f"invalid name '{name}': a primitive type name cannot be redefined", f"{path}/name")
    if "." in name or namespace is None:
        return full_name_of(name, enclosing_namespace)
    if namespace:
        _check_name(namespace, "namespace", f"{path}/namespace", dotted=True)
    return full_name_of(name, namespace)


def _aliases(raw: _JsonObject, path: str, full_name: str) -> tuple[str, ...]:
    """A named type's aliases as full names; an undotted alias is relative to the type's own namespace."""
    aliases = _string_list(raw, "aliases", path)
    for index, alias in enumerate(aliases):
        _check_name(alias, "alias", f"{path}/aliases/{index}", dotted=True)
    return tuple(full_name_of(alias, namespace_of(full_name)) for alias in aliases)


def _symbols(raw: _JsonObject, path: str) -> tuple[str, ...]:
    if "symbols" not in raw:
        raise InvalidSchemaError("missing required attribute 'symbols'", path)
    symbols = _string_list(raw, "symbols", path)
    for index, symbol in enumerate(symbols):
        _check_name(symbol, "symbol", f"{path}/symbols/{index}", dotted=False)
        if symbol in symbols[:index]:
            raise InvalidSchemaError(f"duplicate symbol '{symbol}'", f"{path}/symbols/{index}")
    return tuple(symbols)


def _check_name(value: str, what: str, path: str, *, dotted: bool) -> None:
    """Refuse `value` unless it is a valid name; `dotted` allows a full name (dot-separated valid names)."""
    if dotted and not is_valid_full_name(value):
        raise InvalidSchemaError(f"invalid {what} '{value}': each dot-separated part must match {NAME_RULE}", path)
    if not dotted and not is_valid_name(value):
        raise InvalidSchemaError(f"invalid {what} '{value}': it must match {NAME_RULE}", path)


def _order(raw: _JsonObject, path: str) -> FieldOrder:
    order = _optional(raw, "order", str, "a string", path)
    if order is None:
        return FieldOrder.ASCENDING
    if order not in {known.value for known in FieldOrder}:
        raise InvalidSchemaError(f"order must be one of {_ORDERS}, got '{order}'", f"{path}/order")
    return FieldOrder(order)


def _doc(raw: _JsonObject, path: str) -> str | None:
    return _optional(raw, "doc", str, "a string", path)


def _string_list(raw: _JsonObject, key: str, path: str) -> list[str]:
    values = _optional(raw, key, list, "an array of strings", path) or []
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise InvalidSchemaError(f"{key} must be strings, got {_show(value)}", f"{path}/{key}/{index}")
    return values


def _properties(raw: _JsonObject, known_keys: frozenset[str] | set[str]) -> Properties:
    return tuple(sorted((key, value) for key, value in raw.items() if key not in known_keys))


def _optional(raw: _JsonObject, key: str, kind: type[_Value], description: str, path: str) -> _Value | None:
    if key not in raw:
        return None
    value = raw[key]
    if not isinstance(value, kind):
        raise InvalidSchemaError(f"{key} must be {description}, got {_show(value)}", f"{path}/{key}")
    return value


def _required(raw: _JsonObject, key: str, kind: type[_Value], description: str, path: str) -> _Value:
    value = _optional(raw, key, kind, description, path)
    if value is None:
        raise InvalidSchemaError(f"missing required attribute '{key}'", path)
    return value


def _show(value: JsonValue) -> str:
    return json.dumps(value, ensure_ascii=False)
