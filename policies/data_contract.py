"""Data-contract rules: CEL conditions every record of a stream must meet, e.g. `record.amount_minor >= 0`.

A stream's rules are stored with it (`data_rules` in its definition). The hub compiles them when the
stream is registered or its rules change, and refuses a rule that does not compile, does not return a
boolean, or reads a field the value schema lacks; the producer SDK compiles them once when it opens
the stream and checks every record before it is encoded.

In CEL a record is `record`, a `map(string, dyn)` of the value's fields as the producer passes them
(a rule reads a field as `record.name` or `record["name"]`; only fields read so go to CEL):
nested records are maps, arrays lists, a null union branch `null`; with the value schema known,
decimals are doubles, timestamps epoch milliseconds or microseconds (as Avro stores them) and dates
days since 1970-01-01: what the rules were type-checked against (`avro_cel_types`).
CEL's strings extension is on, as for policy rules. Reading an absent field is an error, and an error
counts as a violation (it says why).

Speed: a rule type-checked against the schema's mirror is translated to Python (`cel_python`), as
policy rules are, and evaluated over the record's converted fields: benchmarks/backfill.py's three
rules take ~2.7 µs a record, conversions included, instead of ~17 µs for a CEL activation and an
evaluation. Rules outside the translated subset (`has()`, a nullable boolean in `&&`, ...; every
rule of a schema without a mirror) are evaluated by cel-expr-python.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from cel_expr_python import cel
from cel_expr_python.ext.ext_strings import ExtStrings
from google.protobuf import descriptor_pool

from headwater.policies.avro_cel_types import field_converters, record_field_names, typed_environment
from headwater.policies.cel_python import Untranslatable, translate_data_rule

RECORD: Final = "record"
_ENVIRONMENT: Final = cel.NewEnv(
    descriptor_pool.DescriptorPool(),
    variables={RECORD: cel.Type.Map(cel.Type.STRING, cel.Type.DYN)},
    extensions=[ExtStrings()],  # as policy rules have: split, lowerAscii, upperAscii, indexOf, ...
)
_FIELD_READ: Final = re.compile(rf"""\b{RECORD}\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"]([^'"]+)['"]\s*\])""")
_AS_IS: Final = frozenset({str, int, float, bool, bytes, type(None)})
_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class DataRule:
    name: str
    expression: str
    message: str = ""
    """What the rule means, shown with each violation (e.g. "refunds are separate events")."""


@dataclass(frozen=True)
class DataRuleViolation:
    rule: str
    expression: str
    fields: dict[str, Any]
    """The top-level fields the expression reads, with the record's values."""
    problem: str
    """`false`, or the evaluation error."""

    def __str__(self) -> str:
        values = ", ".join(f"{name} = {value!r}" for name, value in self.fields.items()) or "no fields read"
        return f"rule {self.rule} ({self.expression}) is {self.problem} for {values}"


class DataRuleError(ValueError):
    """Rules that cannot be used, each problem on its own."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class _CompiledRule:
    rule: DataRule
    compiled: cel.Expression
    """Against `map(string, dyn)`: evaluated when the rule has no Python translation."""
    fields: tuple[str, ...]
    python: Callable[[Mapping[str, Any]], bool] | None
    """The translation of the rule type-checked against the schema's mirror, over converted fields."""

    @property
    def compiled_text(self) -> str:
        return self.rule.expression.strip()

    def problem(self, converted: Mapping[str, Any], activation: Any) -> str | None:
        """None when the record meets the rule; otherwise `false` or why it could not be evaluated.
        `activation` holds the record for cel-expr-python (None when every rule is translated)."""
        if self.python is not None:
            try:
                return None if self.python(converted) is True else "false"
            except Exception as error:  # noqa: BLE001 - any failure to evaluate is the rule's error
                return f"not evaluable ({error})"
        result = self.compiled.eval(activation)
        if result.type() == cel.Type.BOOL:
            return None if result.value() is True else "false"
        return f"not evaluable ({result.value()})"


class DataContract:
    """A stream's rules, compiled once."""

    def __init__(self, rules: Iterable[DataRule], value_fields: Iterable[str], value_schema: object = None) -> None:
        """Raises DataRuleError naming every rule that does not compile, does not return a boolean, reads
        a field outside `value_fields`, repeats a name or has a malformed one; with `value_schema` (Avro
        JSON data), also every rule that does not type-check against it (see `avro_cel_types`), and
        the record's values are given to the rules as the schema's types say."""
        known, problems, compiled, names = set(value_fields), [], [], set()
        typed = typed_environment(value_schema, RECORD) if value_schema is not None else None
        for rule in rules:
            if not _NAME.match(rule.name):
                problems.append(f"rule name {rule.name!r} is not 1-63 of a-z, 0-9, '_' and '-'")
            if rule.name in names:
                problems.append(f"rule {rule.name} appears twice")
            names.add(rule.name)
            fields = tuple(dict.fromkeys(dotted or indexed for dotted, indexed in _FIELD_READ.findall(rule.expression)))
            unknown = [name for name in fields if name not in known]
            if unknown:
                listed = ", ".join(f"{RECORD}.{name}" for name in unknown)
                problems.append(f"rule {rule.name} reads {listed}, which the value schema does not have")
                continue
            try:
                expression = _ENVIRONMENT.compile(rule.expression.strip())
            except RuntimeError as error:
                problems.append(f"rule {rule.name} does not compile: {_cel_error(error)}")
                continue
            if expression.return_type() != cel.Type.BOOL:
                returned = expression.return_type().name().lower()
                problems.append(f"rule {rule.name} returns {returned}; a data rule must return bool")
                continue
            python = None
            if typed is not None:
                try:
                    checked = typed.compile(rule.expression.strip())
                except RuntimeError as error:
                    problems.append(
                        f"rule {rule.name} does not type-check against the value schema: {_cel_error(error)}"
                    )
                    continue
                try:
                    python = translate_data_rule(checked, RECORD)
                except Untranslatable:
                    pass  # cel-expr-python evaluates it
            compiled.append(_CompiledRule(rule, expression, fields, python))
        if problems:
            raise DataRuleError(problems)
        self._rules = compiled
        converters = field_converters(value_schema)
        # Only the fields some rule reads go to CEL: converting the others would be wasted work.
        read = dict.fromkeys(name for rule in compiled for name in rule.fields)
        self._read_plan = tuple((name, converters.get(name)) for name in read)
        self._python = tuple(rule.python for rule in compiled if rule.python is not None)
        # Most records meet every rule: one evaluation of the untranslated rules' conjunction says so
        # (each evaluation costs about as much as building the activation); rules are evaluated one
        # by one only to name the ones a record breaks.
        in_cel = [rule for rule in compiled if rule.python is None]
        conjunction = " && ".join(f"({rule.compiled_text})" for rule in in_cel)
        self._cel_all = _ENVIRONMENT.compile(conjunction) if in_cel else None

    @property
    def translated(self) -> int:
        """How many rules are evaluated as Python."""
        return len(self._python)

    @property
    def rules(self) -> list[DataRule]:
        return [compiled.rule for compiled in self._rules]

    def violations(self, record: Mapping[str, Any]) -> list[DataRuleViolation]:
        """Every rule `record` breaks (empty when it meets them all)."""
        if not self._rules:
            return []
        converted = {}
        for name, convert in self._read_plan:
            if name in record:
                converted[name] = record[name] if convert is None else convert(record[name])
        if self._meets_all(converted):
            return []
        activation = _activation(converted) if self._cel_all is not None else None
        found = []
        for compiled in self._rules:
            problem = compiled.problem(converted, activation)
            if problem is not None:
                fields = {name: record.get(name) for name in compiled.fields}
                found.append(DataRuleViolation(compiled.rule.name, compiled.rule.expression, fields, problem))
        return found

    def _meets_all(self, converted: dict[str, Any]) -> bool:
        try:
            for rule in self._python:
                if rule(converted) is not True:
                    return False
        except Exception:  # noqa: BLE001 - an error is a violation; the rules are evaluated again to name it
            return False
        # An error's value is its message, not True.
        return self._cel_all is None or self._cel_all.eval(_activation(converted)).value() is True


def contract_problems(rules: Sequence[DataRule], value_schema: str) -> list[str]:
    """Every problem of `rules` with `value_schema` (Avro JSON text): none when they can be used."""
    definition = json.loads(value_schema)
    try:
        DataContract(rules, record_field_names(definition), definition)
    except DataRuleError as error:
        return error.problems
    return []


def _activation(converted: Mapping[str, Any]) -> Any:
    """The record's fields as cel-expr-python takes them, for the rules it evaluates."""
    return _ENVIRONMENT.Activation({RECORD: {name: _cel_value(value) for name, value in converted.items()}})


def _cel_error(error: RuntimeError) -> str:
    """cel-expr-python's first line, without its status prefix: `<input>:1:17: found no matching ...`."""
    first = str(error).strip().splitlines()[0]
    return first.removeprefix("INVALID_ARGUMENT: ").removeprefix("ERROR: ")


def _cel_value(value: Any) -> Any:
    """The record as CEL's Python binding takes it: decimals as doubles, instants as ISO text (without a
    schema saying what they are)."""
    if type(value) in _AS_IS:
        return value
    if isinstance(value, Mapping):
        return {key: _cel_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_cel_value(item) for item in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value
