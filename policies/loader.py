"""Load policy files (YAML) into a `PolicySet`, rejecting every broken rule at load time.

A policy file holds one top-level key, `rules`, a list of rules::

    rules:
      - id: partitions-within-bounds        # unique across all loaded files
        description: Partition counts stay manageable.
        applies_to: [stream_registration, topic_config]
        severity: error                      # error blocks, warn reports
        builtin: partitions-within-bounds    # a built-in check ...
        params: {minimum: 1, maximum: 64}    # ... with optional integer parameters
        fix_hint: Choose 1 to 64 partitions. # optional for built-ins
      - id: snake-case-fields
        description: Field names are snake_case.
        applies_to: [schema_version]
        severity: warn
        cel: schema.fields.all(f, f.name.matches('^[a-z_]+$'))   # ... or a boolean CEL expression
        message: A field name is not snake_case.                 # required for CEL rules
        fix_hint: Rename the field.                              # required for CEL rules
        path: schema.fields                                      # optional, for CEL rules
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml

from headwater.policies.builtin.catalog import BUILTIN_DEFINITIONS
from headwater.policies.cel_compile import compile_expression
from headwater.policies.cel_context import referenced_variables
from headwater.policies.cel_python import try_translate
from headwater.policies.context import Scope
from headwater.policies.errors import PolicyFileError, PolicyFilesError, PolicyFolderNotFoundError
from headwater.policies.policy_set import PolicySet
from headwater.policies.rule import BuiltinCheck, CelCheck, Rule
from headwater.policies.severity import Severity

DEFAULT_POLICY_FOLDER: Final = Path(__file__).parent / "defaults"
"""The rules shipped with headwater; pass it first to `load_policies`."""

ALLOWED_KEYS: Final = (
    "id",
    "description",
    "applies_to",
    "severity",
    "builtin",
    "cel",
    "message",
    "fix_hint",
    "path",
    "params",
)
_REQUIRED_KEYS: Final = ("id", "description", "applies_to", "severity")
_CEL_ONLY_KEYS: Final = ("message", "path")
_BUILTIN_ONLY_KEYS: Final = ("params",)
_RULE_ID_PATTERN: Final = r"[a-z][a-z0-9-]*"


def load_policies(folders: Sequence[Path]) -> PolicySet:
    """Read every `*.yaml` of each folder, in order (defaults first), into one `PolicySet`.

    Raises `PolicyFilesError` listing every problem of every file, each with file, line and rule.
    """
    rules: list[Rule] = []
    errors: list[PolicyFileError] = []
    first_by_id: dict[str, Rule] = {}
    for folder in folders:
        if not folder.is_dir():
            raise PolicyFolderNotFoundError(folder)
        for file in sorted(folder.glob("*.yaml")):
            file_rules, file_errors = parse_policy_file(file.read_text(encoding="utf-8"), str(file))
            errors.extend(file_errors)
            for rule in file_rules:
                first = first_by_id.setdefault(rule.id, rule)
                if first is rule:
                    rules.append(rule)
                else:
                    problem = f"duplicate rule id, first defined at {first.source}"
                    errors.append(PolicyFileError(rule.source_file, rule.source_line, rule.id, problem))
    if errors:
        raise PolicyFilesError(errors)
    return PolicySet(tuple(rules))


def parse_policy_file(text: str, file: str) -> tuple[list[Rule], list[PolicyFileError]]:
    """The valid rules of one file and the problems of the others; `file` names it in errors."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        return [], [PolicyFileError(file, line, None, f"invalid YAML: {error.problem}")]
    if root is None:
        return [], []
    rule_nodes = _rule_nodes(root)
    if isinstance(rule_nodes, str):
        return [], [PolicyFileError(file, root.start_mark.line + 1, None, rule_nodes)]
    rules: list[Rule] = []
    errors: list[PolicyFileError] = []
    for node in rule_nodes:
        rule_or_errors = _RuleParser(file, node).parse()
        if isinstance(rule_or_errors, Rule):
            rules.append(rule_or_errors)
        else:
            errors.extend(rule_or_errors)
    return rules, errors


def _rule_nodes(root: yaml.Node) -> list[yaml.Node] | str:
    if not isinstance(root, yaml.MappingNode) or [key.value for key, _ in root.value] != ["rules"]:
        return "a policy file must hold exactly one top-level key, 'rules'"
    rules = root.value[0][1]
    if not isinstance(rules, yaml.SequenceNode):
        return "'rules' must be a list of rules"
    return list(rules.value)


@dataclass(frozen=True)
class _Entry:
    value: object
    line: int
    node: yaml.Node


class _RuleParser:
    """Checks one rule mapping and collects every problem with its line."""

    def __init__(self, file: str, node: yaml.Node) -> None:
        self.file = file
        self.line = node.start_mark.line + 1
        self.node = node
        self.problems: list[tuple[int, str]] = []
        self.entries: dict[str, _Entry] = {}

    def parse(self) -> Rule | list[PolicyFileError]:
        if not isinstance(self.node, yaml.MappingNode):
            self.problems.append((self.line, "a rule must be a mapping of keys"))
            return [PolicyFileError(self.file, self.line, None, problem) for _, problem in self.problems]
        complete = self._read_entries(self.node)
        rule_id = self._rule_id()
        rule = self._build(rule_id) if complete else None
        if rule is None or self.problems:
            ordered = sorted(self.problems, key=lambda problem: problem[0])
            return [PolicyFileError(self.file, line, rule_id, problem) for line, problem in ordered]
        return rule

    def _read_entries(self, node: yaml.MappingNode) -> bool:
        """Whether the rule has every required key and exactly one kind of check."""
        constructor = yaml.SafeLoader("")
        for key_node, value_node in node.value:
            key, line = str(key_node.value), key_node.start_mark.line + 1
            if key in self.entries:
                self.problems.append((line, f"duplicate key '{key}'"))
            elif key not in ALLOWED_KEYS:
                self.problems.append((line, f"unknown key '{key}'; allowed keys: {', '.join(ALLOWED_KEYS)}"))
            else:
                self.entries[key] = _Entry(constructor.construct_object(value_node, deep=True), line, value_node)
        missing = [key for key in _REQUIRED_KEYS if key not in self.entries]
        self.problems.extend((self.line, f"missing key '{key}'") for key in missing)
        one_kind = ("builtin" in self.entries) != ("cel" in self.entries)
        if not one_kind:
            self.problems.append((self.line, "a rule needs exactly one of 'builtin' or 'cel'"))
        return one_kind and not missing

    def _rule_id(self) -> str | None:
        entry = self.entries.get("id")
        if entry is None:
            return None
        if isinstance(entry.value, str) and _matches_rule_id(entry.value):
            return entry.value
        self.problems.append((entry.line, "id must be lowercase words joined by '-', e.g. fields-documented"))
        return None

    def _text(self, key: str) -> str | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if isinstance(entry.value, str) and entry.value.strip():
            return entry.value
        self.problems.append((entry.line, f"'{key}' must be a non-empty string"))
        return None

    def _scopes(self) -> frozenset[Scope]:
        entry = self.entries["applies_to"]
        known = [scope.value for scope in Scope]
        values = entry.value if isinstance(entry.value, list) else []
        unknown = [value for value in values if value not in known]
        if not values or unknown:
            got = f"; unknown: {', '.join(map(str, unknown))}" if unknown else ""
            self.problems.append((entry.line, f"'applies_to' must list scopes among {', '.join(known)}{got}"))
            return frozenset()
        return frozenset(Scope(value) for value in values)

    def _severity(self) -> Severity:
        entry = self.entries["severity"]
        if entry.value not in [severity.value for severity in Severity]:
            self.problems.append((entry.line, f"severity must be 'error' or 'warn', not {entry.value!r}"))
            return Severity.ERROR
        return Severity(str(entry.value))

    def _build(self, rule_id: str | None) -> Rule | None:
        description, scopes, severity = self._text("description"), self._scopes(), self._severity()
        check: CelCheck | BuiltinCheck | None
        if "cel" in self.entries:
            self._refuse_keys(_BUILTIN_ONLY_KEYS, "builtin")
            check, fix_hint = self._cel_check(), self._text("fix_hint")
            for key in ("message", "fix_hint"):
                if key not in self.entries:
                    self.problems.append((self.line, f"a cel rule needs '{key}'"))
        else:
            self._refuse_keys(_CEL_ONLY_KEYS, "cel")
            check, fix_hint = self._builtin_check(scopes)
        if self.problems or rule_id is None or description is None or check is None or fix_hint is None:
            return None
        return Rule(rule_id, description, scopes, severity, check, fix_hint, self.file, self.line)

    def _refuse_keys(self, keys: Sequence[str], kind: str) -> None:
        for key in keys:
            if key in self.entries:
                self.problems.append((self.entries[key].line, f"'{key}' only applies to {kind} rules"))

    def _cel_check(self) -> CelCheck | None:
        entry = self.entries["cel"]
        expression, message = self._text("cel"), self._text("message")
        path = self._text("path") if "path" in self.entries else ""
        if expression is None:
            return None
        compiled = compile_expression(expression)
        if isinstance(compiled, list):
            # Block scalars (| or >) start on the line after the key; CEL counts lines from 1.
            first_line = entry.node.start_mark.line + 1 + (1 if entry.node.style in ("|", ">") else 0)
            self.problems.extend((first_line + problem.line - 1, problem.problem) for problem in compiled)
            return None
        if message is None or path is None:
            return None
        return CelCheck(expression, compiled, message, path, referenced_variables(expression), try_translate(compiled))

    def _builtin_check(self, scopes: frozenset[Scope]) -> tuple[BuiltinCheck | None, str | None]:
        entry = self.entries["builtin"]
        definition = BUILTIN_DEFINITIONS.get(str(entry.value))
        if definition is None:
            known = ", ".join(BUILTIN_DEFINITIONS)
            self.problems.append((entry.line, f"unknown builtin {entry.value!r}; known builtins: {known}"))
            return None, None
        unsupported = sorted(scopes - definition.scopes)
        if unsupported:
            line = self.entries["applies_to"].line
            problem = f"builtin '{definition.name}' does not apply to {', '.join(unsupported)}"
            self.problems.append((line, problem))
        params = self._params(definition.default_params)
        fix_hint = self._text("fix_hint") if "fix_hint" in self.entries else definition.fix_hint
        if params is None:
            return None, fix_hint
        return BuiltinCheck(definition.name, definition.function, params), fix_hint

    def _params(self, defaults: Mapping[str, int]) -> Mapping[str, int] | None:
        entry = self.entries.get("params")
        if entry is None:
            return defaults
        given = entry.value if isinstance(entry.value, dict) else None
        if given is None:
            self.problems.append((entry.line, "'params' must be a mapping of names to integers"))
            return None
        bad = [key for key, value in given.items() if key not in defaults or type(value) is not int]
        if bad:
            allowed = ", ".join(defaults) or "none"
            problem = f"bad params {', '.join(map(str, bad))}: integer params allowed here: {allowed}"
            self.problems.append((entry.line, problem))
            return None
        return {**defaults, **given}


def _matches_rule_id(value: str) -> bool:
    return re.fullmatch(_RULE_ID_PATTERN, value) is not None
