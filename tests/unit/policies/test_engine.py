"""Evaluating loaded rules against a context: every violation, split by severity, CEL rules included."""

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from headwater.policies import (
    DEFAULT_POLICY_FOLDER,
    NaiveTimestampError,
    PolicySet,
    SchemaField,
    Scope,
    Severity,
    Violation,
    evaluate,
    load_policies,
)
from headwater.policies.cel_context import referenced_variables
from tests.unit.policies.contexts import VALUE_SCHEMA, context, stream

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

ORGANISATION_RULES = """\
rules:
  - id: snake-case-fields
    description: Field names are snake_case.
    applies_to: [schema_version]
    severity: error
    cel: schema.fields.all(f, f.name.matches('^[a-z][a-z0-9_]*$'))
    message: A field name is not snake_case.
    fix_hint: Rename the field in snake_case.
    path: schema.fields
  - id: previous-schema-keeps-subject
    description: Versions stay under one subject.
    applies_to: [schema_version]
    severity: warn
    cel: previous_schema.subject == schema.subject
    message: The previous version has another subject.
    fix_hint: Register under the previous subject.
"""


@pytest.fixture(scope="module")
def policy_set(tmp_path_factory: pytest.TempPathFactory) -> PolicySet:
    folder = tmp_path_factory.mktemp("organisation")
    (folder / "naming.yaml").write_text(ORGANISATION_RULES)
    return load_policies([DEFAULT_POLICY_FOLDER, folder])


def test_conforming_change_is_allowed_without_findings(policy_set: PolicySet) -> None:
    for scope in Scope:
        decision = evaluate(policy_set, context(scope), [], NOW)
        assert (decision.allowed, decision.violations, decision.warnings, decision.waived) == (True, (), (), ())


def test_organisation_cel_rule_fires_on_a_camel_case_field(policy_set: PolicySet) -> None:
    camel = replace(VALUE_SCHEMA, fields=(*VALUE_SCHEMA.fields, SchemaField("orderDate", "orderDate", "long", "Day.")))
    decision = evaluate(policy_set, context(Scope.SCHEMA_VERSION, schema=camel), [], NOW)
    assert decision.allowed is False
    assert decision.violations == (
        Violation(
            "snake-case-fields",
            Severity.ERROR,
            "schema.fields",
            "A field name is not snake_case.",
            "Rename the field in snake_case.",
        ),
    )


def test_every_violation_is_reported_not_only_the_first(policy_set: PolicySet) -> None:
    broken = stream(name="Orders", owner_team="", partitions=100, description="")
    decision = evaluate(policy_set, context(Scope.STREAM_REGISTRATION, stream=broken, registered_stream=None), [], NOW)
    assert [(violation.rule_id, violation.path) for violation in decision.violations] == [
        ("stream-name-format", "stream.name"),
        ("partitions-within-bounds", "stream.partitions"),
        ("owner-team-and-contact-present", "stream.owner_team"),
    ]
    assert [(warning.rule_id, warning.severity) for warning in decision.warnings] == [
        ("stream-description-present", Severity.WARN)
    ]
    assert decision.allowed is False


def test_warnings_alone_do_not_block(policy_set: PolicySet) -> None:
    decision = evaluate(policy_set, context(Scope.STREAM_REGISTRATION, stream=stream(description="")), [], NOW)
    assert decision.allowed is True
    assert [warning.message for warning in decision.warnings] == ["The stream has no description."]


def test_cel_evaluation_error_surfaces_as_a_violation(policy_set: PolicySet) -> None:
    decision = evaluate(policy_set, context(Scope.SCHEMA_VERSION, previous_schema=None), [], NOW)
    assert decision.warnings == (
        Violation(
            "previous-schema-keeps-subject",
            Severity.WARN,
            "",
            "The previous version has another subject. "
            '(CEL evaluation error: UNKNOWN: No value with name "previous_schema" found in Activation)',
            "Register under the previous subject.",
        ),
    )


def test_cel_comprehension_covers_a_fifty_field_schema(policy_set: PolicySet) -> None:
    fields = tuple(SchemaField(f"field_{index}", f"field_{index}", "string", "Doc.") for index in range(50))
    wide = replace(VALUE_SCHEMA, fields=fields)
    assert evaluate(policy_set, context(Scope.SCHEMA_VERSION, schema=wide, previous_schema=wide), [], NOW).allowed
    last_broken = replace(wide, fields=(*fields[:49], SchemaField("Field49", "Field49", "string", "Doc.")))
    decision = evaluate(policy_set, context(Scope.SCHEMA_VERSION, schema=last_broken, previous_schema=wide), [], NOW)
    assert [violation.rule_id for violation in decision.violations] == [
        "no-field-removal-without-default",
        "snake-case-fields",
    ]


def test_evaluation_without_a_timezone_is_refused(policy_set: PolicySet) -> None:
    with pytest.raises(NaiveTimestampError) as raised:
        evaluate(policy_set, context(Scope.SCHEMA_VERSION), [], datetime(2026, 11, 25))
    assert str(raised.value) == "`now` has no timezone; pass an aware datetime, e.g. datetime.now(UTC)."


def test_rules_of_other_scopes_are_not_evaluated(tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text(ORGANISATION_RULES)
    policy_set = load_policies([tmp_path])
    # The CEL rules would fail on this context, but they apply to schema versions only.
    decision = evaluate(policy_set, context(Scope.ACCESS_REQUEST, schema=None, previous_schema=None), [], NOW)
    assert decision.allowed and decision.warnings == ()


def test_has_stream_lets_a_cel_rule_skip_subjects_outside_the_catalog(tmp_path: Path) -> None:
    (tmp_path / "public.yaml").write_text(
        "rules:\n  - id: public-needs-description\n    description: Public streams say what they hold.\n"
        "    applies_to: [schema_version]\n    severity: error\n"
        "    cel: \"!has_stream || !('public' in stream.tags) || stream.description != ''\"\n"
        "    message: A public stream has no description.\n    fix_hint: Describe it.\n"
    )
    rules = load_policies([tmp_path])
    public_without_description = stream(tags=("public",), description="")

    bare_subject = evaluate(rules, context(Scope.SCHEMA_VERSION, stream=None), [], NOW)
    in_catalog = evaluate(rules, context(Scope.SCHEMA_VERSION, stream=public_without_description), [], NOW)

    assert bare_subject.allowed
    assert [violation.rule_id for violation in in_catalog.violations] == ["public-needs-description"]


def test_only_variables_named_in_an_expression_are_converted() -> None:
    assert referenced_variables("schema.fields.all(f, f.doc != '')") == {"schema"}
    assert referenced_variables("previous_schema.subject == schema.subject") == {"previous_schema", "schema"}
    # `schema_count` is not the variable `schema`; a name inside a literal counts (a harmless superset).
    assert referenced_variables("requester.identity != 'schema_count'") == {"requester"}
    assert referenced_variables("requester.identity != 'key_schema'") == {"requester", "key_schema"}


def test_the_strings_extension_is_available_to_rules(tmp_path: Path) -> None:
    (tmp_path / "depth.yaml").write_text(
        "rules:\n  - id: shallow-fields\n    description: Fields nest at most two deep.\n"
        "    applies_to: [schema_version]\n    severity: error\n"
        "    cel: schema.fields.all(f, f.path.split('.').size() <= 2 && f.name.lowerAscii() == f.name)\n"
        "    message: A field nests deeper than two records.\n    fix_hint: Flatten it.\n"
    )
    deep = replace(VALUE_SCHEMA, fields=(*VALUE_SCHEMA.fields, SchemaField("a.b.c", "c", "string")))

    assert evaluate(load_policies([tmp_path]), context(Scope.SCHEMA_VERSION), [], NOW).allowed
    refused = evaluate(load_policies([tmp_path]), context(Scope.SCHEMA_VERSION, schema=deep), [], NOW)
    assert [violation.rule_id for violation in refused.violations] == ["shallow-fields"]


MIXED_RULES = """\
rules:
  - id: translated
    description: Runs as Python.
    applies_to: [schema_version]
    severity: error
    cel: schema.fields.size() > 100
    message: Translated rule failed.
    fix_hint: None.
  - id: interpreted
    description: A map literal is outside the translated subset, so cel-expr-python runs it.
    applies_to: [schema_version]
    severity: error
    cel: "{'limit': 100}['limit'] < schema.fields.size()"
    message: Interpreted rule failed.
    fix_hint: None.
  - id: interpreted-error
    description: An evaluation error from the library's evaluator.
    applies_to: [schema_version]
    severity: warn
    cel: "{'limit': 100}['missing'] < previous_schema.fields.size()"
    message: Interpreted rule erred.
    fix_hint: None.
"""


def test_translated_and_interpreted_rules_are_evaluated_together(tmp_path: Path) -> None:
    (tmp_path / "mixed.yaml").write_text(MIXED_RULES)
    policies = load_policies([tmp_path])
    kinds = {rule.id: rule.check.translated is not None for rule in policies.rules}  # type: ignore[union-attr]
    assert kinds == {"translated": True, "interpreted": False, "interpreted-error": False}

    decision = evaluate(policies, context(Scope.SCHEMA_VERSION), [], NOW)

    assert [(v.rule_id, v.message) for v in decision.violations] == [
        ("translated", "Translated rule failed."),
        ("interpreted", "Interpreted rule failed."),
    ]
    assert [v.rule_id for v in decision.warnings] == ["interpreted-error"]
    assert "CEL evaluation error" in decision.warnings[0].message
