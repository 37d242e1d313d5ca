"""Encoding records: the Confluent wire format, strict Avro, and errors naming the field and value."""

import json
import weakref
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from headwater.producers.avro_records import RecordCodec
from headwater.producers.errors import NotAStreamMessageError, RecordRejectedError
from headwater.producers.wire_format import frame, unframe

PAYMENT = {
    "type": "record",
    "name": "Payment",
    "fields": [
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
        {"name": "currency", "type": {"type": "enum", "name": "Currency", "symbols": ["EUR", "GBP"]}},
        {"name": "reference", "type": ["null", "string"], "default": None},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    ],
}
GOOD = {"amount": Decimal("12.30"), "currency": "EUR", "reference": "rent", "at": datetime(2026, 11, 25, tzinfo=UTC)}


@pytest.fixture
def codec() -> RecordCodec:
    return RecordCodec("payments.payment", "value", 4242, json.dumps(PAYMENT))


def test_a_record_is_framed_with_magic_byte_and_schema_id_and_reads_back(codec: RecordCodec) -> None:
    message = codec.encode(GOOD)
    assert message[:5] == b"\x00\x00\x00\x10\x92"  # magic 0, schema id 4242 big-endian
    assert codec.decode(message) == GOOD


def test_a_field_with_a_default_may_be_left_out(codec: RecordCodec) -> None:
    record = {key: value for key, value in GOOD.items() if key != "reference"}
    assert codec.decode(codec.encode(record))["reference"] is None


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ({**GOOD, "currency": "USD"}, "field Payment.currency = 'USD' is not one of the symbols ['EUR', 'GBP']"),
        ({**GOOD, "reference": 7}, "field Payment.reference = 7 is not a null"),
        ({**GOOD, "amount": "12.30"}, "field Payment.amount = '12.30' is not a decimal"),
        ({**GOOD, "colour": "red"}, "record contains more fields than the schema specifies: colour"),
        ({k: v for k, v in GOOD.items() if k != "currency"}, "field Payment.currency = None is not"),
        ("not a record", "the record = 'not a record' is not a record 'Payment'"),
    ],
)
def test_a_mismatching_record_is_refused_naming_field_and_value(
    codec: RecordCodec, record: object, problem: str
) -> None:
    with pytest.raises(RecordRejectedError) as refused:
        codec.encode(record)
    assert "The value does not match the schema of 'payments.payment', so nothing was sent" in str(refused.value)
    assert problem in str(refused.value)


def test_long_values_are_shortened_in_errors(codec: RecordCodec) -> None:
    with pytest.raises(RecordRejectedError) as refused:
        codec.encode({**GOOD, "currency": "X" * 500})
    # The value's repr, quote included, is cut at 60 characters.
    assert "= '" + "X" * 59 + "... is not" in str(refused.value)


def test_unframe_reads_the_schema_id_and_refuses_other_bytes() -> None:
    assert unframe(frame(7, b"body")) == (7, b"body")
    with pytest.raises(NotAStreamMessageError, match="magic byte 1"):
        unframe(b"\x01\x00\x00\x00\x07body")
    with pytest.raises(NotAStreamMessageError, match="3 bytes, shorter than the 5-byte header"):
        unframe(b"\x00\x00\x00")


def test_a_codec_is_freed_as_soon_as_it_is_dropped() -> None:
    """The C writer is not garbage-collected, so its fastavro fallback must not refer back to the codec:
    a producer opened and closed over and over would otherwise keep every codec alive."""
    codec = RecordCodec("payments.payment", "value", 4242, json.dumps(PAYMENT))
    codec.encode({**GOOD, "at": datetime(2026, 1, 1)})  # naive: through the fallback
    dropped = weakref.ref(codec)
    del codec
    assert dropped() is None
