"""Data-contract rules: refused when unusable (each problem named), and violations that name the rule,
its expression and the values of the fields it read."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from headwater.policies.data_contract import DataContract, DataRule, DataRuleError

FIELDS = ["amount_minor", "currency", "price", "note", "buyer"]


def test_a_record_breaking_a_rule_is_told_which_rule_and_which_values() -> None:
    contract = DataContract(
        [
            DataRule("amount-not-negative", "record.amount_minor >= 0"),
            DataRule("iso-currency", "record.currency.size() == 3 && record.currency == record.currency.upperAscii()"),
            DataRule("cheap", "record.price < 100.0"),
            DataRule("note-if-large", "record.amount_minor < 1000 || record.note != null"),
            DataRule("buyer-email", "record.buyer.email.contains('@')"),
            DataRule("indexed", "record['currency'] != 'XXX'"),
        ],
        FIELDS,
    )
    good = {"amount_minor": 5, "currency": "EUR", "price": Decimal("9.99"), "note": None, "buyer": {"email": "a@b"}}
    assert contract.violations(good) == []

    bad = {**good, "amount_minor": 5000, "currency": "eur", "price": Decimal("120.5")}
    found = {violation.rule: violation for violation in contract.violations(bad)}
    assert set(found) == {"iso-currency", "cheap", "note-if-large"}
    assert str(found["note-if-large"]) == (
        "rule note-if-large (record.amount_minor < 1000 || record.note != null) is false for "
        "amount_minor = 5000, note = None"
    )
    assert found["cheap"].fields == {"price": Decimal("120.5")}


def test_a_missing_field_is_a_violation_that_says_why() -> None:
    contract = DataContract([DataRule("email", "record.buyer.email.contains('@')")], FIELDS)
    (violation,) = contract.violations({"buyer": {}})
    assert violation.rule == "email" and violation.problem.startswith("not evaluable") and "email" in violation.problem


def test_unusable_rules_are_refused_each_with_its_problem() -> None:
    with pytest.raises(DataRuleError) as refused:
        DataContract(
            [
                DataRule("typo", "record.amount_mnor >= 0 || record['curency'] == ''"),
                DataRule("syntax", "record.amount_minor >="),
                DataRule("not-bool", "record.amount_minor + 1"),
                DataRule("Bad Name", "true"),
                DataRule("typo", "true"),
            ],
            FIELDS,
        )
    problems = refused.value.problems
    assert problems[0] == "rule typo reads record.amount_mnor, record.curency, which the value schema does not have"
    assert problems[1].startswith("rule syntax does not compile:")
    assert problems[2] == "rule not-bool returns int; a data rule must return bool"
    assert problems[3] == "rule name 'Bad Name' is not 1-63 of a-z, 0-9, '_' and '-'"
    assert problems[4] == "rule typo appears twice"


SCHEMA = {
    "type": "record",
    "name": "Payment",
    "namespace": "bench",
    "fields": [
        {"name": "amount_minor", "type": "long"},
        {"name": "currency", "type": {"type": "enum", "name": "Currency", "symbols": ["EUR", "GBP"]}},
        {"name": "fee_currency", "type": "Currency"},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
        {"name": "note", "type": ["null", "string"]},
        {"name": "buyer", "type": {"type": "record", "name": "Buyer", "fields": [{"name": "email", "type": "string"}]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "limits", "type": {"type": "map", "values": "long"}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    ],
}
SCHEMA_FIELDS = [field["name"] for field in SCHEMA["fields"]]


def test_rules_are_type_checked_against_the_value_schema() -> None:
    fine = [
        "record.amount_minor >= 0 && record.price < 100.0",
        "record.currency == 'EUR' && record.fee_currency == record.currency",
        "record.note == null || record.note.size() < 20",
        "record.buyer.email.contains('@') && record.tags.all(t, t.size() > 0)",
        "record.limits.all(k, record.limits[k] >= 0) && record.at > 0",
    ]
    contract = DataContract([DataRule(f"r{n}", rule) for n, rule in enumerate(fine)], SCHEMA_FIELDS, SCHEMA)
    record = {
        "amount_minor": 1,
        "currency": "EUR",
        "fee_currency": "EUR",
        "price": Decimal("9.50"),
        "note": None,
        "buyer": {"email": "a@b"},
        "tags": ["x"],
        "limits": {"day": 5},
        "at": 1,
    }
    assert contract.violations(record) == []

    with pytest.raises(DataRuleError) as refused:
        DataContract(
            [
                DataRule("string-vs-int", "record.currency > 1"),
                DataRule("double-vs-int", "record.price >= 0"),
                DataRule("nested-typo", "record.buyer.emial == ''"),
            ],
            SCHEMA_FIELDS,
            SCHEMA,
        )
    problems = refused.value.problems
    assert problems[0].startswith("rule string-vs-int does not type-check against the value schema: <input>:1:17:")
    assert "no matching overload for '_>_' applied to '(string, int)'" in problems[0]
    assert "applied to '(double, int)'" in problems[1]
    assert "undefined field 'emial'" in problems[2]


def test_a_schema_without_a_mirror_keeps_the_untyped_check() -> None:
    union = {"type": "record", "name": "U", "fields": [{"name": "either", "type": ["int", "string"]}]}
    contract = DataContract([DataRule("any", "record.either != 0")], ["either"], union)
    assert contract.violations({"either": 3}) == []


def test_rules_read_instants_dates_and_decimals_as_the_typed_check_does() -> None:
    """Type-checked as int (epoch units, as Avro stores them) and double, and evaluated so: a datetime
    the producer passes is epoch milliseconds or microseconds to the rule, a date days since 1970."""
    schema = {
        "type": "record",
        "name": "Event",
        "fields": [
            {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "at_micros", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
            {
                "name": "lines",
                "type": {
                    "type": "array",
                    "items": {
                        "type": "record",
                        "name": "Line",
                        "fields": [
                            {
                                "name": "price",
                                "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
                            },
                            {"name": "sku", "type": "string"},
                        ],
                    },
                },
            },
        ],
    }
    rules = [
        DataRule("after-2026", "record.at >= 1767225600000"),  # 2026-01-01T00:00:00Z in milliseconds
        DataRule("micros-agree", "record.at_micros == null || record.at_micros / 1000 == record.at"),
        DataRule("day-after-2025", "record.day > 20088"),  # 2024-12-31
        DataRule("lines-priced", "record.lines.all(line, line.price > 0.0 && line.sku != '')"),
    ]
    contract = DataContract(rules, [field["name"] for field in schema["fields"]], schema)
    moment = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)
    good = {
        "at": moment,
        "at_micros": moment.astimezone(timezone(timedelta(hours=2))),
        "day": date(2026, 11, 25),
        "lines": [{"price": Decimal("9.99"), "sku": "a"}],
    }
    assert contract.violations(good) == []
    assert contract.violations({**good, "at_micros": None}) == []

    bad = {
        "at": datetime(2025, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        "at_micros": moment,
        "day": date(2024, 12, 31),
        "lines": [{"price": Decimal("0.00"), "sku": "a"}],
    }
    found = {violation.rule: violation for violation in contract.violations(bad)}
    assert set(found) == {"after-2026", "micros-agree", "day-after-2025", "lines-priced"}
    assert found["after-2026"].problem == "false"
    assert found["after-2026"].fields == {"at": bad["at"]}  # the value as the producer passed it


def test_a_record_type_used_inside_itself_is_converted_at_every_level() -> None:
    """A nested record referring to itself (a linked list of events): its instants are converted
    however deep the value goes, and working out the conversion ends (it used to recurse forever)."""
    event = {
        "type": "record",
        "name": "Event",
        "fields": [
            {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "previous", "type": ["null", "Event"], "default": None},
        ],
    }
    schema = {"type": "record", "name": "History", "fields": [{"name": "latest", "type": event}]}
    rule = DataRule("ordered", "record.latest.previous == null || record.latest.previous.at < record.latest.at")
    contract = DataContract([rule], ["latest"], schema)
    second = datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)
    older = {"at": second, "previous": None}
    assert contract.violations({"latest": {"at": second + timedelta(seconds=1), "previous": older}}) == []
    assert [violation.rule for violation in contract.violations({"latest": {"at": second, "previous": older}})] == [
        "ordered"
    ]


def test_a_type_used_twice_by_each_of_sixty_levels_is_worked_out_once() -> None:
    """Each level's record holds the previous level's record twice: followed path by path that is 2^60
    walks (a hostile schema, refused by nothing before, kept a hub thread busy for ever)."""
    first = {
        "type": "record",
        "name": "L1",
        "fields": [{"name": "at", "type": {"type": "int", "logicalType": "date"}}],
    }
    fields = [{"name": "l1", "type": first}]
    for level in range(2, 61):
        record = {
            "type": "record",
            "name": f"L{level}",
            "fields": [{"name": "a", "type": f"L{level - 1}"}, {"name": "b", "type": f"L{level - 1}"}],
        }
        fields.append({"name": f"l{level}", "type": record})
    schema = {"type": "record", "name": "Root", "fields": fields}
    contract = DataContract([DataRule("always", "true")], [field["name"] for field in fields], schema)
    assert contract.violations({"l1": {"at": 1}}) == []


def test_translated_rules_name_the_same_violations_as_cel_expr_python() -> None:
    """With the value schema, rules that type-check run as Python; without it, in cel-expr-python. A
    record breaking them gets the same violations either way."""
    rules = [
        DataRule("amount-not-negative", "record.amount_minor >= 0"),
        DataRule("cheap", "record.price < 100.0"),
        DataRule("note-if-large", "record.amount_minor < 1000 || record.note != null"),
        DataRule("buyer-email", "record.buyer.email.contains('@')"),
        DataRule("limits", "record.limits['day'] > 0"),
    ]
    translated = DataContract(rules, SCHEMA_FIELDS, SCHEMA)
    assert translated.translated == 5
    interpreted = DataContract(rules, SCHEMA_FIELDS)
    assert interpreted.translated == 0
    record = {
        "amount_minor": 5000,
        "currency": "EUR",
        "fee_currency": "EUR",
        "price": Decimal("120.50"),
        "note": None,
        "buyer": {"email": "nobody"},
        "tags": [],
        "limits": {},
        "at": 1,
    }
    assert translated.violations(record) == interpreted.violations(record) != []
    assert [violation.rule for violation in translated.violations(record)] == [
        "cheap",
        "note-if-large",
        "buyer-email",
        "limits",
    ]
    assert (
        translated.violations(record)[3].problem
        == interpreted.violations(record)[3].problem
        == ('not evaluable (NOT_FOUND: Key not found in map : "day")')
    )
