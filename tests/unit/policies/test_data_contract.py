"""Data-contract rules: refused when unusable (each problem named), and violations that name the rule,
its expression and the values of the fields it read."""

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
