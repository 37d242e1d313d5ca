"""Recognise logical type annotations (specification, "Logical Types").

The specification says an implementation must ignore a logical type it does not know or that is invalid
(wrong underlying type, bad decimal precision, ...) and use the underlying type. Such an annotation is
therefore not an error: its attributes simply stay among the node's other properties.
"""

from collections.abc import Mapping
from typing import TypeGuard

from .types import DecimalLogicalType, JsonValue, LogicalAnnotation, LogicalType

Underlying = tuple[str, int | None]
"""The annotated type: ("int", None) for a primitive, ("fixed", 16) for a fixed type of 16 bytes."""

_LOGICAL_TYPE_KEY = "logicalType"
_DECIMAL_KEYS = frozenset({_LOGICAL_TYPE_KEY, "precision", "scale"})

# Which underlying types each parameterless logical type may annotate.
_PARAMETERLESS: Mapping[str, frozenset[Underlying]] = {
    "date": frozenset({("int", None)}),
    "time-millis": frozenset({("int", None)}),
    "time-micros": frozenset({("long", None)}),
    "timestamp-millis": frozenset({("long", None)}),
    "timestamp-micros": frozenset({("long", None)}),
    "timestamp-nanos": frozenset({("long", None)}),
    "local-timestamp-millis": frozenset({("long", None)}),
    "local-timestamp-micros": frozenset({("long", None)}),
    "local-timestamp-nanos": frozenset({("long", None)}),
    "uuid": frozenset({("string", None), ("fixed", 16)}),
    "duration": frozenset({("fixed", 12)}),
    "big-decimal": frozenset({("bytes", None)}),
}


def logical_type_of(
    attributes: Mapping[str, JsonValue], underlying: Underlying
) -> tuple[LogicalAnnotation | None, frozenset[str]]:
    """The valid logical type on a type object, and the attribute keys it accounts for."""
    name = attributes.get(_LOGICAL_TYPE_KEY)
    if name == "decimal":
        decimal = _decimal_of(attributes, underlying)
        return (decimal, _DECIMAL_KEYS) if decimal is not None else (None, frozenset())
    if isinstance(name, str) and underlying in _PARAMETERLESS.get(name, frozenset()):
        return LogicalType(name), frozenset({_LOGICAL_TYPE_KEY})
    return None, frozenset()


def _decimal_of(attributes: Mapping[str, JsonValue], underlying: Underlying) -> DecimalLogicalType | None:
    precision = attributes.get("precision")
    scale = attributes.get("scale", 0)
    if not (_is_integer(precision) and _is_integer(scale) and 0 <= scale <= precision and precision > 0):
        return None
    kind, size = underlying
    if kind == "bytes" or (kind == "fixed" and size is not None and precision <= max_decimal_precision(size)):
        return DecimalLogicalType(precision, scale)
    return None


def max_decimal_precision(size: int) -> int:
    """The most decimal digits a signed two's-complement number of `size` bytes can always hold."""
    if size < 1:
        return 0
    # floor(log10(2**(8*size-1) - 1)) in exact integer arithmetic: digits of the largest value, minus one.
    return len(str(2 ** (8 * size - 1) - 1)) - 1


def _is_integer(value: JsonValue) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
