"""A producer compiles the stream's data rules against the value schema it will encode with."""

import json

import pytest

from headwater.policies.data_contract import DataRule
from headwater.producers.avro_records import RecordCodec
from headwater.producers.errors import StreamRulesUnusableError
from headwater.producers.stream_producer import compile_data_rules

VALUE = {"type": "record", "name": "Order", "fields": [{"name": "amount_minor", "type": "long"}]}


def test_rules_that_fit_the_value_schema_are_compiled_and_translated() -> None:
    codec = RecordCodec("shop.order", "value", 7, json.dumps(VALUE))
    contract = compile_data_rules("shop.order", [DataRule("positive", "record.amount_minor > 0")], codec)
    assert contract.translated == 1
    assert [violation.rule for violation in contract.violations({"amount_minor": 0})] == ["positive"]


def test_rules_that_no_longer_fit_the_value_schema_stop_the_producer_with_what_to_do() -> None:
    """A value version imported from another hub skips the hub's rule check; the producer must not
    then fail on every record, nor with a bare ValueError."""
    codec = RecordCodec("shop.order", "value", 7, json.dumps(VALUE))
    rules = [DataRule("has-note", "record.note != ''"), DataRule("typed", "record.amount_minor > 'a'")]
    with pytest.raises(StreamRulesUnusableError) as refused:
        compile_data_rules("shop.order", rules, codec)
    assert refused.value.problems[0] == "rule has-note reads record.note, which the value schema does not have"
    assert refused.value.problems[1].startswith("rule typed does not type-check against the value schema")
    assert "PUT /api/v1/streams/shop.order/data-rules" in str(refused.value)
