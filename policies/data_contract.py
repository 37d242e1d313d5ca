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
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from cel_expr_python import cel
from cel_expr_python.ext.ext_strings import ExtStrings
from google.protobuf import descriptor_pool

from headwater.policies.avro_cel_types import field_converters, typed_environment

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
    fields: tuple[str, ...]

    @property
    def compiled_text(self) -> str:
        return self.rule.expression.strip()


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
            if typed is not None:
                try:
                    typed.compile(rule.expression.strip())
                except RuntimeError as error:
                    problems.append(
                        f"rule {rule.name} does not type-check against the value schema: {_cel_error(error)}"
                    )
                    continue
            compiled.append(_CompiledRule(rule, expression, fields))
        if problems:
            raise DataRuleError(problems)
        self._rules = compiled
        self._converters = field_converters(value_schema)
        # Only the fields some rule reads go to CEL: converting the others would be wasted work.
        self._read = tuple(dict.fromkeys(name for rule in compiled for name in rule.fields))
        # Most records meet every rule: one evaluation of their conjunction says so (each evaluation
        # costs about as much as building the activation); rules are evaluated one by one only to
        # name the ones a record breaks.
        conjunction = " && ".join(f"({rule.compiled_text})" for rule in compiled)
        self._all = _ENVIRONMENT.compile(conjunction) if compiled else None

    @property
    def rules(self) -> list[DataRule]:
        return [compiled.rule for compiled in self._rules]

    def violations(self, record: Mapping[str, Any]) -> list[DataRuleViolation]:
        """Every rule `record` breaks (empty when it meets them all)."""
        if self._all is None:
            return []
        fields = {
            name: _cel_value(self._converters[name](record[name]) if name in self._converters else record[name])
            for name in self._read
            if name in record
        }
        activation = _ENVIRONMENT.Activation({RECORD: fields})
        if self._all.eval(activation).value() is True:  # an error's value is its message
            return []
        found = []
        for compiled in self._rules:
            result = compiled.compiled.eval(activation)
            if result.type() == cel.Type.BOOL and result.value() is True:
                continue
            problem = "false" if result.type() == cel.Type.BOOL else f"not evaluable ({result.value()})"
            fields = {name: record.get(name) for name in compiled.fields}
            found.append(DataRuleViolation(compiled.rule.name, compiled.rule.expression, fields, problem))
        return found


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
