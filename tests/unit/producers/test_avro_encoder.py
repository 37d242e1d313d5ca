"""The compiled writer (C) writes exactly fastavro's bytes, and leaves to fastavro whatever it does not cover."""

import io
import random
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import fastavro
import pytest

from headwater.producers.avro_encoder import Deferred, Writer, compile_writer

ORDER = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "count", "type": "int"},
        {"name": "total", "type": "long"},
        {"name": "ratio", "type": "float"},
        {"name": "score", "type": "double"},
        {"name": "open", "type": "boolean"},
        {"name": "blob", "type": "bytes"},
        {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": 4}},
        {"name": "state", "type": {"type": "enum", "name": "State", "symbols": ["NEW", "PAID", "SENT"]}},
        {"name": "previous_state", "type": ["null", "State"]},
        {"name": "note", "type": ["string", "null"]},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 3}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "at_micros", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {
            "name": "lines",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Line",
                    "fields": [{"name": "sku", "type": "string"}, {"name": "quantity", "type": "long"}],
                },
            },
        },
        {"name": "labels", "type": {"type": "map", "values": "string"}},
        {"name": "first_line", "type": ["null", "Line"]},
    ],
}


def _random_order(rng: random.Random) -> dict[str, object]:
    def text() -> str:
        return "".join(rng.choice("aé€😀 z") for _ in range(rng.choice([0, 1, 5, 63, 64, 200])))

    def long() -> int:
        return rng.choice([0, -1, 1, 63, -64, 64, 2**31, -(2**40), 2**63 - 1, -(2**63), rng.randint(-(10**12), 10**12)])

    lines = [{"sku": text(), "quantity": long()} for _ in range(rng.choice([0, 1, 3, 70]))]
    moment = datetime(1960, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.randint(0, 3 * 10**15))
    return {
        "id": text(),
        "count": rng.choice([0, -(2**31), 2**31 - 1, rng.randint(-1000, 1000)]),
        "total": long(),
        "ratio": rng.random(),
        "score": rng.uniform(-1e300, 1e300),
        "open": rng.random() < 0.5,
        "blob": rng.randbytes(rng.choice([0, 3, 300])),
        "digest": rng.randbytes(4),
        "state": rng.choice(["NEW", "PAID", "SENT"]),
        "previous_state": rng.choice([None, "NEW"]),
        "note": rng.choice([None, text()]),
        "amount": Decimal(rng.randint(-(10**11), 10**11)).scaleb(-rng.choice([0, 1, 3])),
        "at": rng.choice([moment, moment.astimezone(timezone(timedelta(hours=-5))), long() // 1000]),
        "at_micros": moment,
        "day": rng.choice([date(1969, 12, 31), date(2026, 11, 25), 20_000]),
        "lines": lines,
        "labels": {text(): text() for _ in range(rng.choice([0, 2, 80]))},
        "first_line": lines[0] if lines else None,
    }


def _fastavro(schema: dict[str, object], record: object) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(schema), record)
    return buffer.getvalue()


def test_every_covered_type_encodes_to_fastavros_bytes() -> None:
    writer = compile_writer(ORDER, b"header")
    assert writer is not None
    rng = random.Random(20261125)
    for _ in range(2000):
        record = _random_order(rng)
        assert writer.encode(record) == b"header" + _fastavro(ORDER, record), record


@pytest.mark.parametrize(
    "change",
    [
        {"at": datetime(2026, 1, 1)},  # naive: fastavro reads it in local time
        {"count": 2**31},  # out of int range
        {"total": True},  # a bool where a long is expected
        {"state": "LOST"},  # not a symbol
        {"amount": Decimal("1.2345")},  # more decimal places than the scale
        {"amount": Decimal("1234567890.123")},  # the scale's places, but 13 digits for a precision of 12
        {"amount": Decimal("-1234567890.123")},
        {"amount": Decimal("NaN")},
        {"lines": ({"sku": "a", "quantity": 1},)},  # a tuple, not a list
        {"colour": "red"},  # an extra field
        {"ratio": 1e300},  # finite but beyond a float's range
        {"score": True},  # a bool where a double is expected
        {"count": 1.0},  # a float where an int is expected
        {"id": "\ud800"},  # a lone surrogate: not UTF-8
        {"id": b"bytes"},
        {"note": 5},  # the non-null branch of a union, of the wrong type
        {"state": 1},
        {"digest": b"12345"},  # fixed of 4 bytes
        {"labels": {1: "a"}},  # map keys are strings
        {"lines": [{"sku": "a"}]},  # a nested record without a field
        {"day": datetime(2026, 1, 1, tzinfo=UTC)},  # a datetime where a date is expected
    ],
)
def test_values_it_does_not_take_as_is_are_deferred(change: dict[str, object]) -> None:
    writer = compile_writer(ORDER)
    assert writer is not None
    record = {**_random_order(random.Random(1)), **change}
    with pytest.raises(Deferred):
        writer.encode(record)


@pytest.mark.parametrize(
    "schema",
    [
        ["int", "string"],  # a union of two non-null types
        {"type": "record", "name": "Node", "fields": [{"name": "next", "type": ["null", "Node"]}]},  # recursive
        {"type": "int", "logicalType": "time-millis"},
    ],
)
def test_schemas_outside_its_cover_are_left_to_fastavro(schema: object) -> None:
    assert compile_writer(schema) is None


def test_a_record_missing_a_field_is_deferred() -> None:
    writer = compile_writer(ORDER)
    assert writer is not None
    record = _random_order(random.Random(2))
    del record["id"]
    record["extra"] = "keeps the field count"
    with pytest.raises(Deferred):
        writer.encode(record)


def test_encoding_keeps_no_reference_to_the_values() -> None:
    """The writer holds field values while it converts them: every reference it takes is given back,
    whether it encodes the record or defers it."""
    writer = compile_writer(ORDER)
    assert writer is not None
    record = _random_order(random.Random(3))
    refused = {**record, "lines": [{"sku": "a", "quantity": "not a long"}]}
    counts = {name: sys.getrefcount(value) for name, value in record.items()}
    for _ in range(1000):
        writer.encode(record)
        with pytest.raises(Deferred):
            writer.encode(refused)
    assert {name: sys.getrefcount(value) for name, value in record.items()} == counts


def test_a_program_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        Writer(("uuid",), b"")
    with pytest.raises(ValueError, match="decimal takes"):
        Writer(("decimal", 2), b"")
    with pytest.raises(ValueError, match="a field is"):
        Writer(("record", (("id",),)), b"")


@pytest.mark.parametrize(("precision", "scale"), [(12, 3), (18, 2), (18, 0), (30, 4)])
def test_decimals_of_every_shape_encode_to_fastavros_bytes(precision: int, scale: int) -> None:
    """Plain decimals with exactly the scale's places are written in C, the others through Python;
    both give fastavro's bytes, and what fastavro refuses (beyond the precision) is deferred."""
    schema = {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}
    writer = compile_writer(schema)
    assert writer is not None
    rng = random.Random(precision * 100 + scale)
    numbers = [Decimal("0"), Decimal("-0").scaleb(-scale), Decimal(10**precision - 1).scaleb(-scale)]
    numbers += [Decimal(-(10**precision) + 1).scaleb(-scale), Decimal(-128).scaleb(-scale)]
    for _ in range(3000):
        digits = rng.randint(1, precision + 1)
        unscaled = rng.randint(-(10**digits), 10**digits)
        numbers.append(Decimal(unscaled).scaleb(-rng.choice([scale, scale, 0, max(scale - 1, 0), scale + 1])))
    for number in numbers:
        try:
            expected = _fastavro(schema, number)
        except ValueError:
            with pytest.raises(Deferred):
                writer.encode(number)
            continue
        assert writer.encode(number) == expected, number


def test_timestamps_in_and_out_of_utc_encode_to_fastavros_bytes() -> None:
    """UTC datetimes are converted in C (floor division for millis before 1970), others in Python."""
    schemas = [{"type": "long", "logicalType": kind} for kind in ("timestamp-millis", "timestamp-micros")]
    rng = random.Random(7)
    zones = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    for schema in schemas:
        writer = compile_writer(schema)
        assert writer is not None
        for _ in range(3000):
            moment = datetime(1, 1, 2, tzinfo=UTC) + timedelta(microseconds=rng.randint(0, 315_000_000_000_000_000))
            moment = moment.astimezone(rng.choice(zones))
            assert writer.encode(moment) == _fastavro(schema, moment), moment


def test_a_value_it_does_not_take_goes_to_the_fallback() -> None:
    given: list[object] = []

    def fallback(value: object) -> bytes:
        given.append(value)
        return b"from the fallback"

    writer = compile_writer({"type": "array", "items": "long"}, b"h", fallback)
    assert writer is not None
    assert writer.encode([1]) == b"h\x02\x02\x00"
    assert writer.encode([True]) == b"from the fallback" and given == [[True]]
    with pytest.raises(TypeError, match="fallback must be callable"):
        Writer(("long",), b"", "not callable")  # type: ignore[arg-type]
