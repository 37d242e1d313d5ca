"""The Python translation of CEL rules gives cel-expr-python's answer: the same boolean, or an error.

Every expression is evaluated both ways over contexts chosen to reach each branch: a stream or none,
a schema with odd fields (unicode, empty docs, no tags) or none at all, an empty schema.
"""

import importlib.util
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from cel_expr_python import cel

from headwater.policies import PolicyContext, SchemaField, SchemaTree, Scope
from headwater.policies.cel_compile import compile_expression
from headwater.policies.cel_context import build_activation
from headwater.policies.cel_python import CelEvaluationError, Untranslatable, translate
from tests.policy_helpers import ORGANISATION_RULES
from tests.unit.policies.contexts import context, stream

ODD_FIELDS = SchemaTree(
    subject="payments.Ünïcode-value",
    role="value",
    root_type="record",
    fields=(
        SchemaField(path="OrderId", name="OrderId", type="string"),
        SchemaField(path="amount_eur", name="amount_eur", type="double", doc="TODO", nullable=True),
        SchemaField(path="naïve_at", name="naïve_at", type="long", doc="A time with ünïcode.", has_default=True),
        SchemaField(path="a.b.c.d.e", name="e", type="boolean", tags=("pii", "PII")),
        SchemaField(path="is_open", name="is_open", type="boolean", doc="Whether it is open.", tags=("x",)),
    ),
)
EMPTY = SchemaTree(subject="payments.empty-value", role="value", root_type="record")

CONTEXTS = {
    "catalog stream": context(Scope.SCHEMA_VERSION),
    "no stream": context(Scope.SCHEMA_VERSION, stream=None, registered_stream=None),
    "odd fields": context(Scope.SCHEMA_VERSION, schema=ODD_FIELDS, previous_schema=None),
    "odd fields, no stream": context(Scope.SCHEMA_VERSION, schema=ODD_FIELDS, stream=None, key_schema=None),
    "empty schema": context(Scope.STREAM_REGISTRATION, schema=EMPTY, grant_purpose=None),
    "no schema": context(Scope.ACCESS_REQUEST, schema=None, previous_schema=None),
    "big partitions": context(Scope.TOPIC_CONFIG, stream=stream(partitions=2**62, tags=())),
}

FEATURES = [
    # logic, errors absorbed or not
    "!has_stream || stream.partitions > 0",
    "stream.partitions > 0 || true",
    "stream.partitions > 0 && false",
    "true && stream.partitions > 0",
    "false || stream.partitions > 0",
    "stream.partitions > 0 || stream.partitions < 0",
    "has_stream ? stream.partitions > 1 : schema.fields.size() > 2",
    "!(stream.is_source)",
    # integers: overflow, division, modulo
    "stream.partitions * 4 > 0",
    "stream.partitions + stream.partitions > 0",
    "-stream.partitions < 0",
    "schema.fields.size() / 0 > 0",
    "schema.fields.size() % 0 == 0",
    "-7 / 2 == -3 && 7 / -2 == -3 && -7 % 3 == -1 && 7 % -3 == 1",
    "schema.fields.size() - 10 < 0",
    # doubles and orderings
    "1.5 * 2.0 == 3.0 && -1.5 < 0.0 && 2.5 - 1.0 >= 1.5",
    "schema.subject < 'q' && schema.subject >= 'a' && false < true",
    # maps
    "stream.topic_config['cleanup.policy'] == 'compact'",
    "stream.topic_config['missing'] == 'x'",
    "'retention.ms' in stream.topic_config && has(stream.topic_config.missing) == false",
    "stream.topic_config.missing == 'x' || true",
    "stream.topic_config.size() == 3 && size(stream.topic_config) > 1",
    # lists and strings
    "'source' in stream.tags && stream.tags + ['x'] == ['source', 'x']",
    "stream.tags[0] == 'source'",
    "stream.tags[1] == 'source' || stream.tags.size() < 5",
    "schema.subject.split('.').size() == 2 && schema.subject.split('')[0] == 'p'",
    "schema.subject.lowerAscii().contains('ünïcode') || schema.subject.upperAscii().startsWith('PAYMENTS')",
    "schema.subject.replace('-', '_').endsWith('_value') && schema.subject.indexOf('.') == 8",
    "['a', 'b'].join('-') == 'a-b' && ['a', 'b'].join() == 'ab'",
    "size(schema.subject) > 10 && schema.subject.size() < 100",
    "schema.subject.matches('^[a-z.]+-value$') && matches(schema.subject, 'value')",
    "schema.subject.matches('(?i)ÜNÏCODE')",
    "has(stream.description) && !has(requester.is_admin)",
    "scope == 'schema_version' && grant_purpose != '' && key_schema_changed == false",
    "requester.identity + '@' + requester.domain == 'payments-service@payments'",
    "stream.contact == ''",
    # comprehensions
    "schema.fields.all(f, f.doc != '')",
    "schema.fields.exists(f, f.nullable)",
    "schema.fields.exists_one(f, 'pii' in f.tags)",
    "schema.fields.filter(f, f.has_default).size() == 0",
    "schema.fields.map(f, f.name).exists(n, n.startsWith('am'))",
    "schema.fields.map(f, f.nullable, f.path) == ['email']",
    "schema.fields.all(f, f.tags.all(t, t.matches('^[a-z]+$')))",
    "schema.fields.all(f, f.tags[0] == 'pii')",
    "schema.fields.exists(f, f.tags[0] == 'pii')",
    "schema.fields.all(f, stream.partitions > 0)",
    "schema.fields.exists(f, stream.partitions > 0)",
    "schema.fields.exists_one(f, f.tags[0] == 'x')",
    "schema.fields.all(f, schema.fields.exists(g, g.path.startsWith(f.path)))",
    "previous_schema.fields.all(p, schema.fields.exists(f, f.path == p.path))",
    "key_schema.root_type == 'string' && key_schema.fields.size() == 0",
    "schema == previous_schema",
]


def _benchmark_rules() -> list[str]:
    path = Path(__file__).parents[3] / "benchmarks" / "policies.py"
    spec = importlib.util.spec_from_file_location("policies_benchmark", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [expression for _, expression in module.RULES]


EXPRESSIONS = FEATURES + [rule["cel"] for rule in yaml.safe_load(ORGANISATION_RULES)["rules"]] + _benchmark_rules()


def _compiled(expression: str) -> cel.Expression:
    compiled = compile_expression(expression)
    assert isinstance(compiled, cel.Expression), compiled
    return compiled


def _library_answer(compiled: cel.Expression, policy_context: PolicyContext) -> bool | str:
    result = compiled.eval(build_activation(policy_context))
    return "error" if result.type() == cel.Type.ERROR else result.value()


def _translated_answer(expression: str, policy_context: PolicyContext) -> bool | str:
    try:
        return translate(_compiled(expression))(policy_context)
    except CelEvaluationError:
        return "error"


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_translation_answers_as_cel_expr_python(expression: str) -> None:
    compiled = _compiled(expression)
    answers = {
        label: (_translated_answer(expression, ctx), _library_answer(compiled, ctx)) for label, ctx in CONTEXTS.items()
    }
    differing = {label: pair for label, pair in answers.items() if pair[0] != pair[1]}
    assert not differing, f"(translated, cel-expr-python) differ for {expression!r}: {differing}"


def test_the_contexts_reach_true_false_and_error() -> None:
    """Guards the test itself: the corpus must see every kind of answer from both evaluators."""
    seen = {_translated_answer(expression, ctx) for expression in FEATURES for ctx in CONTEXTS.values()}
    assert seen == {True, False, "error"}


def test_an_absent_variable_errs_with_the_libraries_words() -> None:
    translated = translate(_compiled("previous_schema.fields.size() > 0"))
    with pytest.raises(CelEvaluationError, match='No value with name "previous_schema" found in Activation'):
        translated(replace(context(Scope.SCHEMA_VERSION), previous_schema=None))


@pytest.mark.parametrize(
    "expression",
    [
        "{'a': 1}.size() == 1",  # map literals
        "b'abc'.size() == 3",  # bytes
        "1u + 2u == 3u",  # unsigned integers
        "2.0 / 0.0 > 1.0",  # double division (IEEE infinities, not an error)
        "schema.subject.matches(schema.role)",  # a pattern only known at evaluation
        "schema.fields.map(f, f.name).size() == int('3')",  # conversions
        "schema.subject.split('.', 1).size() == 1",  # split with a limit
    ],
)
def test_expressions_outside_the_subset_are_refused(expression: str) -> None:
    with pytest.raises(Untranslatable):
        translate(_compiled(expression))


def test_a_pattern_re2_refuses_is_an_evaluation_error_in_both() -> None:
    expression = "schema.subject.matches('(?=value)')"  # lookahead: RE2 has none
    ctx = context(Scope.SCHEMA_VERSION)
    assert _library_answer(_compiled(expression), ctx) == "error"
    assert _translated_answer(expression, ctx) == "error"
