"""Data rules translated to Python answer exactly as cel-expr-python evaluating them over the record as
`map(string, dyn)` (how untranslated rules run): true, false or the same error message, on a corpus of
rules over every kind of field, and records built to reach each branch and each error."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from cel_expr_python import cel

from headwater.policies.avro_cel_types import field_converters, typed_environment
from headwater.policies.cel_python import CelEvaluationError, Untranslatable, translate_data_rule
from headwater.policies.data_contract import _ENVIRONMENT, RECORD, _cel_value

LINE = {
    "type": "record",
    "name": "Line",
    "fields": [
        {"name": "sku", "type": "string"},
        {"name": "quantity", "type": "long"},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
    ],
}
SCHEMA = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "count", "type": "int"},
        {"name": "total", "type": "long"},
        {"name": "ratio", "type": "double"},
        {"name": "paid", "type": "boolean"},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}},
        {"name": "state", "type": {"type": "enum", "name": "State", "symbols": ["NEW", "PAID", "SENT"]}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "lines", "type": {"type": "array", "items": LINE}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "limits", "type": {"type": "map", "values": "long"}},
        {"name": "first", "type": ["null", "Line"]},
        {"name": "note", "type": ["null", "string"]},
        {"name": "bonus", "type": ["null", "long"]},
        {"name": "flag", "type": ["null", "boolean"]},
    ],
}
RULES = [
    "record.count >= 0 && record.total > record.count",
    "record.total * 4 > 0",  # int64 overflow for large totals
    "record.total / record.count > 1",  # division by zero when count is 0
    "record.total % record.count == 0 || record.paid",
    "-record.total < 0",
    "record.ratio < 0.5 || record.ratio * 2.0 > 1.5",
    "record.amount >= 0.0 && record.amount < 1000.0",
    "record.amount + 1.0 > record.ratio",
    "record.state == 'PAID' || record.state in ['NEW', 'SENT'] && !record.paid",
    "record.id.size() == 4 && record.id.startsWith('o') && record.id.endsWith('1')",
    "record.id.contains('-') || record.id.matches('^o[0-9]+$')",
    "record.id.lowerAscii() == record.id",
    "record.id.split('-').size() == 2",
    "record.at >= 1767225600000",
    "record.day > 20088 && record.day < 30000",
    "record.lines.all(line, line.quantity > 0 && line.price > 0.0)",
    "record.lines.exists(line, line.sku == 'b')",
    "record.lines.exists_one(line, line.quantity > 1)",
    "record.lines.map(line, line.quantity).size() == record.lines.size()",
    "record.lines.filter(line, line.price > 5.0).size() > 0",
    "record.lines[0].sku != ''",  # an empty list: index out of bounds
    "record.tags.all(tag, tag.size() > 0) && 'vip' in record.tags",
    "record.tags.size() > 1 ? record.tags[1] != 'x' : true",
    "record.limits['day'] >= 0",  # a map without the key: an error
    "record.limits.all(key, record.limits[key] < 100)",
    "'day' in record.limits || record.limits.size() == 0",
    "record.first == null || record.first.quantity > 0",
    "record.first.quantity > 0",  # null: an error
    "record.first.quantity > 0 || true",  # the error absorbed
    "false && record.limits['none'] > 0",
    "record.limits['none'] > 0 && false",
    "record.limits['none'] > 0 || record.count == 0",
    # nullable scalars (protobuf wrappers): None compared as is, an error in any other function
    "record.note == null || record.note.size() < 10",
    "record.note != null && record.note.startsWith('a')",
    "record.note.size() < 10",
    "size(record.note) > 0",
    "record.note.matches('^a') || record.note == ''",
    "record.note in ['a', 'abc']",
    "record.note + '!' != ''",
    "record.bonus + 1 > 0",
    "record.bonus < record.total",
    "record.total > record.bonus",
    "record.bonus != 1 && record.bonus == record.bonus",
    "record.bonus / record.count > 0",
    "record.flag == true",
    "record.flag != false",
]
UNTRANSLATED = [
    "has(record.first)",
    "record.note in record.limits",  # a nullable scalar with a map: CEL's error names no types ("@in")
    "record.flag && record.paid",  # a nullable boolean in a logical operator
    "record.flag ? record.paid : true",
    "!record.flag",
]


def _order(**changes: Any) -> dict[str, Any]:
    line = {"sku": "a", "quantity": 2, "price": Decimal("9.99")}
    order = {
        "id": "o1-1",
        "count": 3,
        "total": 300,
        "ratio": 0.25,
        "paid": True,
        "amount": Decimal("120.50"),
        "state": "PAID",
        "at": datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
        "day": date(2026, 11, 25),
        "lines": [line, {**line, "sku": "b", "quantity": 1, "price": Decimal("0.50")}],
        "tags": ["vip", "x"],
        "limits": {"day": 10},
        "first": line,
        "note": None,
        "bonus": None,
        "flag": None,
    }
    return {**order, **changes}


RECORDS = {
    "typical": _order(),
    "edges": _order(
        count=0,
        total=2**62,
        ratio=0.9,
        paid=False,
        amount=Decimal("-0.01"),
        state="NEW",
        id="O21",
        at=datetime(2025, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        day=date(2024, 12, 31),
        lines=[],
        tags=[],
        limits={},
        first=None,
        note="",
        bonus=-5,
        flag=False,
    ),
    "others": _order(
        count=-7,
        total=-(2**63) + 1,
        id="o123",
        lines=[{"sku": "", "quantity": 0, "price": Decimal("5.01")}],
        tags=["", "y", "vip"],
        limits={"day": -1, "night": 500},
        note="abc",
        bonus=2**63 - 1,
        flag=True,
    ),
    "missing fields": {key: value for key, value in _order().items() if key not in ("total", "lines", "limits")},
}


def _typed_answer(expression: str, record: dict[str, Any]) -> bool | str:
    typed = typed_environment(SCHEMA, RECORD)
    assert typed is not None
    function = translate_data_rule(typed.compile(expression), RECORD)
    try:
        return function(_converted(record))
    except CelEvaluationError as error:
        return f"error: {error}"


def _cel_answer(expression: str, record: dict[str, Any]) -> bool | str:
    activation = _ENVIRONMENT.Activation(
        {RECORD: {key: _cel_value(value) for key, value in _converted(record).items()}}
    )
    result = _ENVIRONMENT.compile(expression).eval(activation)
    return f"error: {result.value()}" if result.type() == cel.Type.ERROR else result.value()


def _converted(record: dict[str, Any]) -> dict[str, Any]:
    converters = field_converters(SCHEMA)
    return {key: converters[key](value) if key in converters else value for key, value in record.items()}


@pytest.mark.parametrize("expression", RULES)
def test_translated_rules_answer_as_cel_expr_python(expression: str) -> None:
    answers = {
        label: (_typed_answer(expression, record), _cel_answer(expression, record)) for label, record in RECORDS.items()
    }
    differing = {label: pair for label, pair in answers.items() if pair[0] != pair[1]}
    assert not differing, f"(translated, cel-expr-python) differ for {expression!r}: {differing}"


def test_the_records_reach_true_false_and_error() -> None:
    """Guards the test itself: the corpus must see every kind of answer."""
    seen = {_cel_answer(expression, record) for expression in RULES for record in RECORDS.values()}
    assert {True, False} < seen
    errors = {answer for answer in seen if isinstance(answer, str)}
    assert {error.split(":")[2].strip() for error in errors} == {
        "No matching overloads found",
        "integer overflow",
        "divide by zero",
        "modulus by zero",
        "Index error",
        "Key not found in map",
        "Applying SELECT to non-message type",
    }


@pytest.mark.parametrize("expression", UNTRANSLATED)
def test_presence_tests_and_nullable_booleans_in_logic_are_left_to_cel_expr_python(expression: str) -> None:
    typed = typed_environment(SCHEMA, RECORD)
    assert typed is not None
    with pytest.raises(Untranslatable):
        translate_data_rule(typed.compile(expression), RECORD)
