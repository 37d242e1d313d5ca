"""Loading policy files: the shipped defaults, and every broken file rejected with file, line and rule."""

from pathlib import Path
from textwrap import dedent

import pytest

from headwater.policies import (
    DEFAULT_POLICY_FOLDER,
    BuiltinCheck,
    CelCheck,
    PolicyFilesError,
    PolicyFolderNotFoundError,
    Scope,
    Severity,
    load_policies,
)
from headwater.policies.builtin import BUILTIN_DEFINITIONS

RULE = """\
rules:
  - id: documented
    description: Fields are documented.
    applies_to: [schema_version]
    severity: error
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(dedent(text))
    return path


def load_errors(*folders: Path) -> list[str]:
    with pytest.raises(PolicyFilesError) as raised:
        load_policies(folders)
    return [str(error) for error in raised.value.errors]


def test_shipped_defaults_load_every_builtin_rule() -> None:
    policy_set = load_policies([DEFAULT_POLICY_FOLDER])
    builtin_names = {rule.check.name for rule in policy_set.rules if isinstance(rule.check, BuiltinCheck)}
    assert builtin_names == set(BUILTIN_DEFINITIONS)
    listing = {entry.id: entry for entry in policy_set.listing()}
    assert listing["stream-description-present"].kind == "cel"
    assert listing["stream-name-format"].source == f"{DEFAULT_POLICY_FOLDER / 'headwater.yaml'}:8"


def test_organisation_rules_load_after_the_defaults_with_their_source(tmp_path: Path) -> None:
    path = write(
        tmp_path, "org.yaml", RULE + "    cel: schema.fields.all(f, f.doc != '')\n    message: m\n    fix_hint: h\n"
    )
    policy_set = load_policies([DEFAULT_POLICY_FOLDER, tmp_path])
    rule = policy_set.rules[-1]
    assert (rule.id, rule.source, rule.severity, rule.scopes) == (
        "documented",
        f"{path}:2",
        Severity.ERROR,
        frozenset({Scope.SCHEMA_VERSION}),
    )
    assert isinstance(rule.check, CelCheck)
    assert rule in policy_set.rules_for(Scope.SCHEMA_VERSION)
    assert rule not in policy_set.rules_for(Scope.ACCESS_REQUEST)


def test_builtin_params_override_the_defaults(tmp_path: Path) -> None:
    write(
        tmp_path,
        "org.yaml",
        RULE.replace("schema_version", "topic_config")
        + "    builtin: partitions-within-bounds\n    params: {maximum: 12}\n",
    )
    (rule,) = load_policies([tmp_path]).rules
    assert isinstance(rule.check, BuiltinCheck)
    assert rule.check.params == {"minimum": 1, "maximum": 12}
    assert rule.fix_hint == "Choose a partition count within the allowed bounds."


def test_bad_yaml_is_reported_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "rules:\n  - id: [unclosed\n    severity: error\n")
    assert load_errors(tmp_path) == [f"{path}:3: invalid YAML: expected ',' or ']', but got ':'"]


def test_unknown_key_is_reported_with_file_line_and_rule(tmp_path: Path) -> None:
    path = write(tmp_path, "org.yaml", RULE + "    builtin: fields-documented\n    severty: warn\n")
    assert load_errors(tmp_path) == [
        f"{path}:7: rule 'documented': unknown key 'severty'; allowed keys: "
        "id, description, applies_to, severity, builtin, cel, message, fix_hint, path, params"
    ]


def test_duplicate_rule_id_across_files_names_both_locations(tmp_path: Path) -> None:
    first = write(tmp_path / "defaults", "a.yaml", RULE + "    builtin: fields-documented\n")
    second = write(
        tmp_path / "org", "b.yaml", "# the organisation's copy\n" + RULE + "    builtin: fields-documented\n"
    )
    assert load_errors(tmp_path / "defaults", tmp_path / "org") == [
        f"{second}:3: rule 'documented': duplicate rule id, first defined at {first}:2"
    ]


def test_cel_syntax_error_is_reported_at_its_line_in_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "org.yaml",
        RULE + "    cel: |\n      stream.partitions > 1 &&\n      stream.name ==\n    message: m\n    fix_hint: h\n",
    )
    (error,) = load_errors(tmp_path)
    assert error.startswith(f"{path}:8: rule 'documented': CEL Syntax error: mismatched input '<EOF>' expecting")
    assert error.endswith("(column 15)")


def test_unknown_context_field_is_reported_at_the_expression_line(tmp_path: Path) -> None:
    path = write(tmp_path, "org.yaml", RULE + "    cel: stream.nmae == 'orders'\n    message: m\n    fix_hint: h\n")
    assert load_errors(tmp_path) == [
        f"{path}:6: rule 'documented': CEL undefined field 'nmae' not found in struct "
        "'headwater.policy.Stream' (column 7)"
    ]


def test_non_boolean_expression_is_refused_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, "org.yaml", RULE + "    cel: stream.partitions + 1\n    message: m\n    fix_hint: h\n")
    assert load_errors(tmp_path) == [f"{path}:6: rule 'documented': CEL expression must return bool, not int"]


def test_unknown_builtin_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "org.yaml", RULE + "    builtin: fields-have-docs\n")
    (error,) = load_errors(tmp_path)
    assert error == (
        f"{path}:6: rule 'documented': unknown builtin 'fields-have-docs'; known builtins: "
        + ", ".join(BUILTIN_DEFINITIONS)
    )


def test_every_problem_of_a_file_is_reported_together(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "org.yaml",
        """\
        rules:
          - id: Bad_Id
            description: ""
            applies_to: [schema_version, deploy]
            severity: fatal
            builtin: fields-documented
            params: {maximum: 3}
            message: not for builtins
          - description: no id
            cel: "true"
        """,
    )
    assert load_errors(tmp_path) == [
        f"{path}:2: id must be lowercase words joined by '-', e.g. fields-documented",
        f"{path}:3: 'description' must be a non-empty string",
        f"{path}:4: 'applies_to' must list scopes among "
        "schema_version, stream_registration, access_request, topic_config; unknown: deploy",
        f"{path}:5: severity must be 'error' or 'warn', not 'fatal'",
        f"{path}:7: bad params maximum: integer params allowed here: none",
        f"{path}:8: 'message' only applies to cel rules",
        f"{path}:9: missing key 'id'",
        f"{path}:9: missing key 'applies_to'",
        f"{path}:9: missing key 'severity'",
    ]


def test_cel_rule_without_message_and_fix_hint_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "org.yaml", RULE + "    cel: 'true'\n")
    assert load_errors(tmp_path) == [
        f"{path}:2: rule 'documented': a cel rule needs 'message'",
        f"{path}:2: rule 'documented': a cel rule needs 'fix_hint'",
    ]


def test_builtin_used_outside_its_scopes_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path, "org.yaml", RULE.replace("[schema_version]", "[access_request]") + "    builtin: fields-documented\n"
    )
    assert load_errors(tmp_path) == [
        f"{path}:4: rule 'documented': builtin 'fields-documented' does not apply to access_request"
    ]


def test_file_without_a_rules_list_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "org.yaml", "rule:\n  - id: x\n")
    assert load_errors(tmp_path) == [f"{path}:1: a policy file must hold exactly one top-level key, 'rules'"]


def test_missing_policy_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyFolderNotFoundError) as raised:
        load_policies([tmp_path / "absent"])
    assert str(raised.value) == (
        f"Policy folder '{tmp_path / 'absent'}' does not exist. Create it or fix the configured path."
    )


def test_combined_error_message_lists_every_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "org.yaml", RULE + "    builtin: nope\n    extra: 1\n")
    with pytest.raises(PolicyFilesError) as raised:
        load_policies([tmp_path])
    assert str(raised.value).splitlines() == [
        "2 problems in policy files:",
        f"{path}:6: rule 'documented': unknown builtin 'nope'; known builtins: " + ", ".join(BUILTIN_DEFINITIONS),
        f"{path}:7: rule 'documented': unknown key 'extra'; allowed keys: "
        "id, description, applies_to, severity, builtin, cel, message, fix_hint, path, params",
    ]
