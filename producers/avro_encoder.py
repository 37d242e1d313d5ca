"""Compile one Avro schema into a Python function that writes its binary encoding, for the hot path.

Why: fastavro is generic (it looks up each field's schema and logical type on every record) and took
9.5 µs for a 12-field record, more than the 7.9 µs librdkafka needs to produce it
(benchmarks/backfill.py). The generated function is straight-line code for one schema.

It covers records, arrays, maps, enums, fixed, primitives, unions of null and one type, and the
logical types decimal (bytes), timestamp-millis, timestamp-micros and date. For anything it cannot
encode exactly as fastavro would (another union, a naive datetime, a record that omits a field with
a default, a value of an unexpected type), it raises `Defer` and the caller uses fastavro, which then
encodes the record or refuses it with its own rules; so this module never accepts what fastavro
refuses. `tests/unit/producers/test_avro_encoder.py` checks byte equality with fastavro.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final

Encoder = Callable[[Any], bytes]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_DAYS_SHIFT: Final = date(1970, 1, 1).toordinal()
_PRIMITIVE_ONLY: Final = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")


class Defer(Exception):
    """This record (or schema) is left to fastavro."""


def compile_encoder(schema: object) -> Encoder | None:
    """The encoder of a schema (as JSON data), or None when the schema uses what it does not cover."""
    builder = _Builder()
    try:
        body = builder.write(schema, "record", 1, "")
    except Defer:
        return None
    source = "def encode(record):\n    parts = []\n    append = parts.append\n" + body + '    return b"".join(parts)\n'
    namespace: dict[str, Any] = {**_RUNTIME, **builder.constants}
    exec(compile(source, "<avro-encoder>", "exec"), namespace)  # noqa: S102 - code generated from a schema
    encoder: Encoder = namespace["encode"]
    return encoder


class _Builder:
    def __init__(self) -> None:
        self.constants: dict[str, object] = {}
        self._named: dict[str, object] = {}
        self._counter = 0

    def _name(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    def write(self, schema: object, value: str, depth: int, namespace: str) -> str:
        pad = "    " * depth
        if isinstance(schema, str):
            if schema in _PRIMITIVE_ONLY:
                return self._primitive(schema, value, pad)
            named = self._named.get(schema) or self._named.get(f"{namespace}.{schema}")
            if named is None:
                raise Defer(f"unknown or recursive type {schema}")
            return self.write(named, value, depth, namespace)
        if isinstance(schema, list):
            return self._union(schema, value, depth, namespace)
        if not isinstance(schema, Mapping):
            raise Defer("not a schema")
        kind = schema.get("type")
        logical = schema.get("logicalType")
        if logical is not None:
            return self._logical(schema, logical, value, pad)
        if kind in _PRIMITIVE_ONLY:
            return self._primitive(str(kind), value, pad)
        if kind in ("record", "enum", "fixed"):
            space = str(schema.get("namespace", namespace))
            name = str(schema["name"])
            full = name if "." in name else (f"{space}.{name}" if space else name)
            if kind == "record":
                # Registered after the fields: a record that contains itself is recursive, which is deferred.
                code = self._record(schema, value, depth, space)
                self._named[full] = schema
                return code
            self._named[full] = schema
            if kind == "enum":
                table = self._name("ENUM")
                self.constants[table] = {symbol: _long(index) for index, symbol in enumerate(schema["symbols"])}
                return f"{pad}append({table}[{value}])\n"
            size = int(schema["size"])
            return f"{pad}if type({value}) is not bytes or len({value}) != {size}: raise Defer\n{pad}append({value})\n"
        if kind in ("array", "map"):
            item = self._name("item")
            inner = self.write(schema["items" if kind == "array" else "values"], item, depth + 2, namespace)
            if kind == "array":
                container, loop, key_code = "list", f"for {item} in {value}:", ""
            else:
                key = self._name("key")
                container, loop = "dict", f"for {key}, {item} in {value}.items():"
                key_code = f"{pad}        _bytes(append, {key}.encode())\n"
            # One block holding every item, then the empty block that ends the array or map.
            return (
                f"{pad}if type({value}) is not {container}: raise Defer\n"
                f"{pad}if {value}:\n{pad}    append(_long(len({value})))\n"
                f"{pad}    {loop}\n{key_code}{inner}"
                f'{pad}append(b"\\x00")\n'
            )
        raise Defer(f"type {kind}")

    def _record(self, schema: Mapping[str, Any], value: str, depth: int, namespace: str) -> str:
        pad = "    " * depth
        fields = schema["fields"]
        # Exactly the schema's fields; anything else (a default left out, an extra key) goes to fastavro.
        code = f"{pad}if type({value}) is not dict or len({value}) != {len(fields)}: raise Defer\n"
        for field in fields:
            field_value = self._name("field")
            code += f"{pad}{field_value} = {value}[{field['name']!r}]\n"
            code += self.write(field["type"], field_value, depth, namespace)
        return code

    def _union(self, branches: list[object], value: str, depth: int, namespace: str) -> str:
        pad = "    " * depth
        if len(branches) != 2 or "null" not in branches:
            raise Defer("a union other than null and one type")
        null_index = branches.index("null")
        other = branches[1 - null_index]
        inner = self.write(other, value, depth + 1, namespace)
        return (
            f"{pad}if {value} is None:\n{pad}    append({_long(null_index)!r})\n"
            f"{pad}else:\n{pad}    append({_long(1 - null_index)!r})\n{inner}"
        )

    def _primitive(self, kind: str, value: str, pad: str) -> str:
        writes = {
            "null": f"if {value} is not None: raise Defer",
            "boolean": f'append(b"\\x01" if {value} is True else b"\\x00" if {value} is False else _defer())',
            "int": f"append(_int({value}))",
            "long": f"append(_long({value}))",
            "float": f"append(_FLOAT({value}))",
            "double": f"append(_DOUBLE({value}))",
            "bytes": f"_bytes(append, {value})",
        }
        if kind == "string":
            # Inline: the most common field type, where a helper call was a quarter of the cost.
            # `.encode` exists on str only among the types a record holds, as fastavro expects.
            encoded = self._name("encoded")
            return (
                f"{pad}{encoded} = {value}.encode()\n"
                # A length below 64 zigzags to one byte.
                f"{pad}append(_SMALL[len({encoded}) << 1] if len({encoded}) < 64 else _long(len({encoded})))\n"
                f"{pad}append({encoded})\n"
            )
        return f"{pad}{writes[kind]}\n"

    def _logical(self, schema: Mapping[str, Any], logical: str, value: str, pad: str) -> str:
        kind = schema.get("type")
        if logical == "decimal" and kind == "bytes":
            scale, precision = int(schema.get("scale", 0)), int(schema["precision"])
            shape = self._name("DECIMAL")
            self.constants[shape] = _DecimalShape(scale, precision)
            return f"{pad}_bytes(append, _decimal({value}, {shape}))\n"
        if logical == "timestamp-millis" and kind == "long":
            return f"{pad}append(_long(_timestamp({value}, 1000)))\n"
        if logical == "timestamp-micros" and kind == "long":
            return f"{pad}append(_long(_timestamp({value}, 1)))\n"
        if logical == "date" and kind == "int":
            return f"{pad}append(_int(_date({value})))\n"
        raise Defer(f"logical type {logical} on {kind}")


# --- the runtime of generated encoders ---


def _defer() -> bytes:
    raise Defer


def _long(number: int) -> bytes:
    if type(number) is not int or not -(2**63) <= number < 2**63:
        raise Defer
    encoded = (number << 1) ^ (number >> 63)  # zigzag
    # Seven bits per byte, looked up 14 bits at a time: a 41-bit timestamp is three lookups, not six
    # rounds of shifting and masking.
    if encoded < 0x4000:
        return _LAST[encoded]
    if encoded < 0x10000000:
        return _MORE[encoded & 0x3FFF] + _LAST[encoded >> 14]
    parts = []
    while encoded >= 0x4000:
        parts.append(_MORE[encoded & 0x3FFF])
        encoded >>= 14
    parts.append(_LAST[encoded])
    return b"".join(parts)


def _int(number: int) -> bytes:
    if type(number) is not int or not -(2**31) <= number < 2**31:
        raise Defer
    return _long(number)


def _bytes(append: Callable[[bytes], None], data: bytes) -> None:
    if type(data) is not bytes:
        raise Defer
    append(_long(len(data)))
    append(data)


class _DecimalShape:
    """A decimal type's scale and precision, with what encoding one needs of them, computed once."""

    def __init__(self, scale: int, precision: int) -> None:
        self.scale, self.precision = scale, precision
        self.quantum = Decimal(1).scaleb(-scale)
        self.factor, self.limit = 10**scale, 10**precision


def _decimal(number: Decimal, shape: _DecimalShape) -> bytes:
    if type(number) is not Decimal:
        raise Defer
    if number.same_quantum(shape.quantum):
        # Exactly `scale` decimals, the usual case: the unscaled value from the exact ratio (half the
        # cost of reading the digit tuple), within the precision.
        numerator, denominator = number.as_integer_ratio()
        unscaled = numerator * shape.factor // denominator
        if not -shape.limit < unscaled < shape.limit:
            raise Defer  # fastavro refuses it with its own message
    else:
        _, digits, exponent = number.as_tuple()
        if not isinstance(exponent, int) or len(digits) > shape.precision or exponent + shape.scale < 0:
            raise Defer  # fastavro refuses these with its own message
        unscaled = int(number.scaleb(shape.scale))  # exact: only the exponent moves
    # fastavro's length: the magnitude's bits plus a sign bit, rounded up to whole bytes.
    size = (abs(unscaled).bit_length() + 8) // 8
    return unscaled.to_bytes(size, "big", signed=True)


def _timestamp(moment: datetime | int, per_unit: int) -> int:
    if type(moment) is int:
        return moment
    if type(moment) is not datetime or moment.tzinfo is None:
        raise Defer  # fastavro reads a naive datetime in local time; leave that to it
    # Exact integer arithmetic, equal to fastavro's days/seconds/microseconds sum.
    since = moment - _EPOCH
    micros = (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds
    return micros // per_unit


def _date(day: date | int) -> int:
    if type(day) is int:
        return day
    if type(day) is not date:
        raise Defer
    return day.toordinal() - _DAYS_SHIFT


_SMALL: Final = [bytes((value,)) for value in range(0x80)]
_LAST: Final = [
    bytes((value,)) if value < 0x80 else bytes(((value & 0x7F) | 0x80, value >> 7)) for value in range(0x4000)
]
"""The varint of every number below 2**14: one or two bytes, the last without the continuation bit."""
_MORE: Final = [bytes(((value & 0x7F) | 0x80, (value >> 7) | 0x80)) for value in range(0x4000)]
"""14 bits of a longer varint: two bytes, both with the continuation bit."""
_RUNTIME: Final[Mapping[str, object]] = {
    "Defer": Defer,
    "_defer": _defer,
    "_long": _long,
    "_int": _int,
    "_SMALL": _SMALL,
    "_bytes": _bytes,
    "_decimal": _decimal,
    "_timestamp": _timestamp,
    "_date": _date,
    "_FLOAT": struct.Struct("<f").pack,
    "_DOUBLE": struct.Struct("<d").pack,
}
