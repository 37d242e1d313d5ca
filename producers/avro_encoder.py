"""Compile one Avro schema into a writer of its binary encoding, for the producer's hot path.

Why: the SDK must reach 70% of the rate of raw confluent-kafka producing pre-encoded bytes
(benchmarks/backfill.py), and librdkafka takes a record in ~1.5-2.5 µs. fastavro is generic (it looks
up each field's schema and logical type on every record) and took 9.5 µs for the benchmark's 12-field
value; straight-line Python generated per schema still took 7.7 µs; the C extension `_avro_writer`
takes 1.5 µs. The schema is compiled here into a small program (nested tuples) that the C writer runs.

It covers records, arrays, maps, enums, fixed, primitives, unions of null and one type, and the
logical types decimal (bytes), timestamp-millis, timestamp-micros and date: the writer converts plain
decimals and UTC datetimes itself and calls the Python functions below for the rest. For anything it
cannot encode exactly as fastavro would (another union, a naive datetime, a record that omits a field
with a default, a value of an unexpected type), the writer calls its fallback (fastavro, which then
encodes the record or refuses it with its own rules) or, without one, raises `Deferred`; so this
module never accepts what fastavro refuses. `tests/unit/producers/test_avro_encoder.py` checks byte equality with
fastavro.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Final

from headwater.policies.avro_cel_types import epoch_days, epoch_micros
from headwater.producers._avro_writer import Deferred, Writer

__all__ = ["Deferred", "Writer", "compile_writer"]

_PRIMITIVE_ONLY: Final = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")
Program = tuple[object, ...]


class _Uncovered(Exception):
    """The schema uses what the writer does not cover."""


def compile_writer(
    schema: object, header: bytes = b"", fallback: Callable[[object], bytes] | None = None
) -> Writer | None:
    """The writer of a schema (as JSON data) whose output starts with `header`, or None when the
    schema uses what it does not cover. A value it does not take is given to `fallback`, or raises
    Deferred without one."""
    try:
        program = _Compiler().program(schema, "")
    except _Uncovered:
        return None
    return Writer(program, header, fallback)


class _Compiler:
    def __init__(self) -> None:
        self._named: dict[str, object] = {}

    def program(self, schema: object, namespace: str) -> Program:
        if isinstance(schema, str):
            if schema in _PRIMITIVE_ONLY:
                return (schema,)
            named = self._named.get(schema) or self._named.get(f"{namespace}.{schema}")
            if named is None:
                raise _Uncovered(f"unknown or recursive type {schema}")
            return self.program(named, namespace)
        if isinstance(schema, list):
            return self._union(schema, namespace)
        if not isinstance(schema, Mapping):
            raise _Uncovered("not a schema")
        kind = schema.get("type")
        logical = schema.get("logicalType")
        if logical is not None:
            return self._logical(schema, logical)
        if kind in _PRIMITIVE_ONLY:
            return (kind,)
        if kind in ("record", "enum", "fixed"):
            space = str(schema.get("namespace", namespace))
            name = str(schema["name"])
            full = name if "." in name else (f"{space}.{name}" if space else name)
            if kind == "record":
                # Registered after the fields: a record that contains itself is recursive, not covered.
                fields = tuple((str(field["name"]), self.program(field["type"], space)) for field in schema["fields"])
                self._named[full] = schema
                return ("record", fields)
            self._named[full] = schema
            if kind == "enum":
                return ("enum", {symbol: index for index, symbol in enumerate(schema["symbols"])})
            return ("fixed", int(schema["size"]))
        if kind == "array":
            return ("array", self.program(schema["items"], namespace))
        if kind == "map":
            return ("map", self.program(schema["values"], namespace))
        raise _Uncovered(f"type {kind}")

    def _union(self, branches: list[object], namespace: str) -> Program:
        if len(branches) != 2 or "null" not in branches:
            raise _Uncovered("a union other than null and one type")
        null_index = branches.index("null")
        return ("nullable", null_index, self.program(branches[1 - null_index], namespace))

    @staticmethod
    def _logical(schema: Mapping[str, object], logical: object) -> Program:
        kind = schema.get("type")
        if logical == "decimal" and kind == "bytes":
            scale, precision = int(str(schema.get("scale", 0))), int(str(schema["precision"]))
            return ("decimal", scale, precision, Decimal, partial(_decimal, shape=_DecimalShape(scale, precision)))
        if logical in ("timestamp-millis", "timestamp-micros") and kind == "long":
            per_unit = 1000 if logical == "timestamp-millis" else 1
            return ("timestamp", per_unit, partial(_timestamp, per_unit=per_unit))
        if logical == "date" and kind == "int":
            return ("convert", _date, ("int",))
        raise _Uncovered(f"logical type {logical} on {kind}")


# --- conversions of logical types, called by the writer; `Deferred` or any error defers the value ---


class _DecimalShape:
    """A decimal type's scale and precision, with what encoding one needs of them, computed once."""

    def __init__(self, scale: int, precision: int) -> None:
        self.scale, self.precision = scale, precision
        self.quantum = Decimal(1).scaleb(-scale)
        self.factor, self.limit = 10**scale, 10**precision


def _decimal(number: Decimal, shape: _DecimalShape) -> bytes:
    if type(number) is not Decimal:
        raise Deferred
    if number.same_quantum(shape.quantum):
        # Exactly `scale` decimals, the usual case: the unscaled value from the exact ratio (half the
        # cost of reading the digit tuple), within the precision.
        numerator, denominator = number.as_integer_ratio()
        unscaled = numerator * shape.factor // denominator
        if not -shape.limit < unscaled < shape.limit:
            raise Deferred  # fastavro refuses it with its own message
    else:
        _, digits, exponent = number.as_tuple()
        if not isinstance(exponent, int) or len(digits) > shape.precision or exponent + shape.scale < 0:
            raise Deferred  # fastavro refuses these with its own message
        unscaled = int(number.scaleb(shape.scale))  # exact: only the exponent moves
    # fastavro's length: the magnitude's bits plus a sign bit, rounded up to whole bytes.
    size = (abs(unscaled).bit_length() + 8) // 8
    return unscaled.to_bytes(size, "big", signed=True)


def _timestamp(moment: datetime, per_unit: int) -> int:
    # The writer converts ints and UTC datetimes itself: only other values come here.
    if type(moment) is not datetime or moment.tzinfo is None:
        raise Deferred  # fastavro reads a naive datetime in local time; leave that to it
    return epoch_micros(moment) // per_unit


def _date(day: date | int) -> int:
    if type(day) is int:
        return day
    if type(day) is not date:
        raise Deferred
    return epoch_days(day)
