"""Check that a field's default value matches the field's type (specification, "Records", default values).

Choices, following the specification's table of default values rather than any one implementation:

- a union's default must match the union's FIRST branch (Avro Java 1.12 accepts any branch);
- int must be a JSON integer in [-2**31, 2**31-1] and long one in [-2**63, 2**63-1]; 1.0 is not an integer;
- float and double accept any finite JSON number, integers included; the strings "NaN" and "Infinity" are
  not numbers and are refused (the JSON parser already refuses the non-standard literals NaN/Infinity);
- bytes and fixed defaults are strings whose code points are all in 0-255 (one byte each); a fixed
  default must have exactly `size` of them;
- an enum default must be one of the enum's symbols;
- a record default is an object holding every field that has no default of its own; keys naming no field
  are ignored, as Avro Java does.
"""

import json
from collections.abc import Callable, Mapping

from .errors import InvalidSchemaError
from .types import Array, AvroType, Enum, Fixed, JsonValue, Map, Primitive, PrimitiveKind, Record, Union, describe_type

_INT_RANGE = range(-(2**31), 2**31)
_LONG_RANGE = range(-(2**63), 2**63)
_BYTE_CODE_POINTS = range(256)


def _is_integer_in(bounds: range) -> Callable[[JsonValue], bool]:
    return lambda value: isinstance(value, int) and not isinstance(value, bool) and value in bounds


def _is_number(value: JsonValue) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_byte_string(value: JsonValue) -> bool:
    return isinstance(value, str) and all(ord(character) in _BYTE_CODE_POINTS for character in value)


_PRIMITIVE_DEFAULT_CHECKS: Mapping[PrimitiveKind, Callable[[JsonValue], bool]] = {
    PrimitiveKind.NULL: lambda value: value is None,
    PrimitiveKind.BOOLEAN: lambda value: isinstance(value, bool),
    PrimitiveKind.INT: _is_integer_in(_INT_RANGE),
    PrimitiveKind.LONG: _is_integer_in(_LONG_RANGE),
    PrimitiveKind.FLOAT: _is_number,
    PrimitiveKind.DOUBLE: _is_number,
    PrimitiveKind.BYTES: _is_byte_string,
    PrimitiveKind.STRING: lambda value: isinstance(value, str),
}


def check_default(value: JsonValue, avro_type: AvroType, path: str) -> None:
    """Raise InvalidSchemaError at `path` (or inside it) unless `value` is a valid default for `avro_type`."""
    _check(value, avro_type, path, describe_type(avro_type))


def _check(value: JsonValue, avro_type: AvroType, path: str, described: str) -> None:
    """`described` names the expected type in the message when `value` itself does not match."""
    if isinstance(avro_type, Union):
        _check_union(value, avro_type, path)
    elif isinstance(avro_type, Record):
        _check_record(value, avro_type, path, described)
    elif isinstance(avro_type, Array):
        _check_array(value, avro_type, path, described)
    elif isinstance(avro_type, Map):
        _check_map(value, avro_type, path, described)
    elif not _matches_scalar(value, avro_type):
        raise _mismatch(value, described, path)


def _matches_scalar(value: JsonValue, avro_type: Primitive | Enum | Fixed) -> bool:
    if isinstance(avro_type, Primitive):
        return _PRIMITIVE_DEFAULT_CHECKS[avro_type.kind](value)
    if isinstance(avro_type, Enum):
        return value in avro_type.symbols
    return _is_byte_string(value) and len(str(value)) == avro_type.size


def _check_union(value: JsonValue, union: Union, path: str) -> None:
    if not union.branches:
        raise InvalidSchemaError(f"default {_show(value)} is not allowed: the union has no branches", path)
    first = union.branches[0]
    _check(value, first, path, f"{describe_type(first)} (a union's default must match its first branch)")


def _check_record(value: JsonValue, record: Record, path: str, described: str) -> None:
    if not isinstance(value, dict):
        raise _mismatch(value, described, path)
    for field in record.fields:
        if field.name in value:
            check_default(value[field.name], field.type, f"{path}/{field.name}")
        elif field.default is None:
            raise InvalidSchemaError(
                f"default {_show(value)} lacks field '{field.name}', which has no default of its own", path
            )


def _check_array(value: JsonValue, array: Array, path: str, described: str) -> None:
    if not isinstance(value, list):
        raise _mismatch(value, described, path)
    for index, item in enumerate(value):
        check_default(item, array.items, f"{path}/{index}")


def _check_map(value: JsonValue, map_type: Map, path: str, described: str) -> None:
    if not isinstance(value, dict):
        raise _mismatch(value, described, path)
    for key, item in value.items():
        check_default(item, map_type.values, f"{path}/{key}")


def _mismatch(value: JsonValue, described: str, path: str) -> InvalidSchemaError:
    return InvalidSchemaError(f"default {_show(value)} does not match type {described}", path)


def _show(value: JsonValue) -> str:
    return json.dumps(value, ensure_ascii=False)
