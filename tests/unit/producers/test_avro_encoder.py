"""The compiled encoder writes exactly fastavro's bytes, and leaves to fastavro whatever it does not cover."""

import io
import random
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import fastavro
import pytest

from headwater.producers.avro_encoder import Defer, compile_encoder

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
    encoder = compile_encoder(ORDER)
    assert encoder is not None
    rng = random.Random(20261125)
    for _ in range(2000):
        record = _random_order(rng)
        assert encoder(record) == _fastavro(ORDER, record), record


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
    ],
)
def test_values_it_does_not_take_as_is_are_deferred(change: dict[str, object]) -> None:
    encoder = compile_encoder(ORDER)
    assert encoder is not None
    record = {**_random_order(random.Random(1)), **change}
    with pytest.raises((Defer, KeyError, TypeError, AttributeError, ValueError)):
        encoder(record)


@pytest.mark.parametrize(
    "schema",
    [
        ["int", "string"],  # a union of two non-null types
        {"type": "record", "name": "Node", "fields": [{"name": "next", "type": ["null", "Node"]}]},  # recursive
        {"type": "int", "logicalType": "time-millis"},
    ],
)
def test_schemas_outside_its_cover_are_left_to_fastavro(schema: object) -> None:
    assert compile_encoder(schema) is None
