"""Translate a type-checked CEL expression into one Python expression, compiled once with the rule.

Why: cel-expr-python interprets expressions over protobuf messages at about 0.2 µs per field read,
so 50 comprehensions over a 50-field schema cost about 4 ms per schema version (issue 4 allows 5 ms
at p99 for the whole policy check). The same rules as Python generator expressions over the context's
own dataclasses take a tenth of that, and need no protobuf conversion.

The translation is exact for the subset it accepts and refuses everything else (`Untranslatable`);
a refused rule keeps cel-expr-python's evaluator, so what a rule means is always CEL's meaning:
- the checker has already typed every expression, so `==`, `<`, `in` and `size` act on values of
  one CEL type, which Python's operators compare the same way (lists are tuples on both sides);
- CEL errors (an absent variable, integer overflow, division by zero, a missing map key or list
  index) raise `CelEvaluationError` with cel-expr-python's words; `&&`, `||`, `all` and `exists`
  absorb them as CEL does (`false && error` is false), through helpers used only where an operand can
  fail;
- `matches` uses RE2, as CEL specifies, not Python's `re`.
`tests/unit/policies/test_cel_python.py` checks the translation against cel-expr-python on a feature
corpus and every CEL rule of the tests and benchmarks, over contexts built to reach each branch and
each error.

Two kinds of expression are translated: policy rules over a `PolicyContext` (`translate`), and data
rules over one record (`translate_data_rule`), type-checked against the record's protobuf mirror
(`avro_cel_types`) and evaluated over the record's fields as a dict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, Final

import re2
from cel_expr_python import cel

from headwater.policies.cel_checked import checked_expression
from headwater.policies.context import PolicyContext

CompiledRule = Callable[[PolicyContext], bool]

_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_ACCUMULATOR: Final = "@result"


class CelEvaluationError(Exception):
    """A CEL evaluation error, as cel-expr-python would return it as a value."""


class Untranslatable(Exception):
    """The expression uses CEL outside the translated subset; it keeps the library's evaluator."""


@dataclass(frozen=True)
class _Code:
    source: str
    may_fail: bool
    """Whether evaluating `source` can raise `CelEvaluationError`."""


# Variables of the CEL environment (`cel_context`) read from the context; `True` when it may be absent.
_MESSAGE_VARIABLES: Final[Mapping[str, bool]] = {
    "requester": False,
    "stream": True,
    "registered_stream": True,
    "schema": True,
    "previous_schema": True,
    "key_schema": True,
}
_SCALAR_VARIABLES: Final[Mapping[str, str]] = {
    "scope": "context.scope.value",
    "key_schema_changed": "context.key_schema_changed",
    "grant_purpose": '(context.grant_purpose or "")',
    "has_stream": "(context.stream is not None)",
}

# overload id -> Python template over the arguments ({0}, {1}, ...) and whether it can fail by itself.
_OPERATORS: Final[dict[str, tuple[str, bool]]] = {
    "logical_not": ("(not {0})", False),
    "equals": ("({0} == {1})", False),
    "not_equals": ("({0} != {1})", False),
    "in_list": ("({0} in {1})", False),
    "in_map": ("({0} in {1})", False),
    "add_int64": ("_int64({0} + {1})", True),
    "subtract_int64": ("_int64({0} - {1})", True),
    "multiply_int64": ("_int64({0} * {1})", True),
    "divide_int64": ("_divide({0}, {1})", True),
    "modulo_int64": ("_modulo({0}, {1})", True),
    "negate_int64": ("_int64(-{0})", True),
    "add_double": ("({0} + {1})", False),
    "subtract_double": ("({0} - {1})", False),
    "multiply_double": ("({0} * {1})", False),
    "negate_double": ("(-{0})", False),
    "add_string": ("({0} + {1})", False),
    "add_list": ("({0} + {1})", False),
    "index_list": ("_index_list({0}, {1})", True),
    "index_map": ("_index_map({0}, {1})", True),
    "size_string": ("len({0})", False),
    "size_list": ("len({0})", False),
    "size_map": ("len({0})", False),
    "string_size": ("len({0})", False),
    "list_size": ("len({0})", False),
    "map_size": ("len({0})", False),
    "contains_string": ("({1} in {0})", False),
    "starts_with_string": ("{0}.startswith({1})", False),
    "ends_with_string": ("{0}.endswith({1})", False),
    "matches": ("_matches({0}, {1})", True),
    "matches_string": ("_matches({0}, {1})", True),
    "string_split_string": ("_split({0}, {1})", False),
    "string_lower_ascii": ("{0}.translate(_LOWER_ASCII)", False),
    "string_upper_ascii": ("{0}.translate(_UPPER_ASCII)", False),
    "string_replace_string_string": ("{0}.replace({1}, {2})", False),
    "string_index_of_string": ("{0}.find({1})", False),
    "list_join_string": ("{1}.join({0})", False),
    "list_join": ('"".join({0})', False),
}
# Overloads that take a null as it is (None == None in Python too); others need their arguments set.
_NULL_COMPARING: Final = frozenset({"equals", "not_equals", "in_list"})
# cel.expr.Type.PrimitiveType values, as CEL names them in error messages.
_PRIMITIVE_NAMES: Final = {1: "bool", 2: "int64", 3: "uint64", 4: "double", 5: "string", 6: "bytes"}
# Orderings: CEL compares numbers across int and double by value, strings by code point, false < true.
for _name, _symbol in (("less", "<"), ("less_equals", "<="), ("greater", ">"), ("greater_equals", ">=")):
    for _types in ("int64", "double", "string", "bool", "int64_double", "double_int64"):
        _OPERATORS[f"{_name}_{_types}"] = (f"({{0}} {_symbol} {{1}})", False)


class _PolicyScope:
    """Policy rules: the variables of `cel_context`, read from a PolicyContext's dataclasses."""

    reads_presence = True

    def identifier(self, name: str) -> _Code:
        if name in _SCALAR_VARIABLES:
            return _Code(_SCALAR_VARIABLES[name], False)
        if name in _MESSAGE_VARIABLES:
            if _MESSAGE_VARIABLES[name]:
                return _Code(f"_present(context.{name}, {name!r})", True)
            return _Code(f"context.{name}", False)
        raise Untranslatable(f"identifier {name}")

    def message_field(self, operand: _Code, field: str) -> _Code:
        return _Code(f"{operand.source}.{field}", operand.may_fail)


@dataclass(frozen=True)
class _RecordScope:
    """Data rules: one variable, a record held as a dict of its fields (nested records dicts too)."""

    variable: str
    reads_presence = False
    """`has()` means "set and not the default" on a message: not translated for dicts."""

    def identifier(self, name: str) -> _Code:
        if name != self.variable:
            raise Untranslatable(f"identifier {name}")
        return _Code("context", False)

    def message_field(self, operand: _Code, field: str) -> _Code:
        # A record may lack a field (the encoder refuses it later) or be null: an error, as in CEL.
        return _Code(f"_field({operand.source}, {field!r})", True)


_Scope = _PolicyScope | _RecordScope


def translate(compiled: cel.Expression) -> CompiledRule:
    """A Python function computing `compiled` over a context; raises `Untranslatable`."""
    function: CompiledRule = _translate(compiled, _PolicyScope())
    return function


def translate_data_rule(compiled: cel.Expression, variable: str) -> Callable[[Mapping[str, Any]], bool]:
    """A Python function computing `compiled`, checked with `variable` typed as a record message, over
    the record's fields (a dict, values as `avro_cel_types.field_converters` gives them); raises
    `Untranslatable`. A nullable scalar (a protobuf wrapper) may be None: compared with `==`/`!=` as
    is, and any other function given a None raises CEL's "No matching overloads" error."""
    function: Callable[[Mapping[str, Any]], bool] = _translate(compiled, _RecordScope(variable))
    return function


def _translate(compiled: cel.Expression, scope: _Scope) -> Any:
    checked = checked_expression(compiled.serialize())
    body = _Translator(checked, scope).expression(checked.expr, frozenset())
    source = f"lambda context: {body.source}"
    return eval(compile(source, "<cel>", "eval"), dict(_RUNTIME))  # noqa: S307 - our own code


def try_translate(compiled: cel.Expression) -> CompiledRule | None:
    """`translate`, or `None` for an expression outside the translated subset."""
    try:
        return translate(compiled)
    except Untranslatable:
        return None


class _Translator:
    def __init__(self, checked: Any, scope: _Scope) -> None:
        self._references = checked.reference_map
        self._types = checked.type_map
        self._scope = scope

    def expression(self, expr: Any, loop_variables: frozenset[str]) -> _Code:
        kind = expr.WhichOneof("kind")
        if kind == "const_expr":
            return _constant(expr.const_expr)
        if kind == "ident_expr":
            return self._identifier(expr.ident_expr.name, loop_variables)
        if kind == "select_expr":
            return self._select(expr.select_expr, loop_variables)
        if kind == "call_expr":
            return self._call(expr, loop_variables)
        if kind == "list_expr":
            if expr.list_expr.optional_indices:
                raise Untranslatable("optional list elements")
            elements = [self.expression(element, loop_variables) for element in expr.list_expr.elements]
            return _Code(f"({''.join(f'{e.source}, ' for e in elements)})", any(e.may_fail for e in elements))
        if kind == "comprehension_expr":
            return self._comprehension(expr.comprehension_expr, loop_variables)
        raise Untranslatable(f"expression kind {kind}")

    def _identifier(self, name: str, loop_variables: frozenset[str]) -> _Code:
        if name in loop_variables:
            return _Code(_loop_variable(name), False)
        return self._scope.identifier(name)

    def _select(self, select: Any, loop_variables: frozenset[str]) -> _Code:
        operand = self.expression(select.operand, loop_variables)
        if not select.field.isidentifier():
            raise Untranslatable(f"field {select.field!r}")
        on_map = select.operand.id in self._types and self._types[select.operand.id].HasField("map_type")
        if select.test_only:  # has(): a present map key, or a message field that is not its default
            if on_map:
                return _Code(f"({select.field!r} in {operand.source})", operand.may_fail)
            if not self._scope.reads_presence:
                raise Untranslatable("has() on a record field")
            return _Code(f"bool({operand.source}.{select.field})", operand.may_fail)
        if on_map:
            return _Code(f"_index_map({operand.source}, {select.field!r})", True)
        return self._scope.message_field(operand, select.field)

    def _call(self, expr: Any, loop_variables: frozenset[str]) -> _Code:
        call = expr.call_expr
        reference = self._references.get(expr.id)
        overloads = list(reference.overload_id) if reference is not None else []
        if len(overloads) != 1:
            raise Untranslatable(f"function {call.function} with overloads {overloads}")
        overload = overloads[0]
        arguments = [call.target] if call.HasField("target") else []
        arguments += list(call.args)
        codes = [self.expression(argument, loop_variables) for argument in arguments]
        nullable = [self._is_wrapper(argument) for argument in arguments]
        if any(nullable) and overload in ("logical_and", "logical_or", "conditional", "logical_not"):
            raise Untranslatable("a nullable boolean in a logical operator")
        if overload in ("logical_and", "logical_or"):
            return _logical(overload, codes[0], codes[1])
        if overload == "conditional":
            return _Code(f"({codes[1].source} if {codes[0].source} else {codes[2].source})", _fails(codes))
        if overload in ("matches", "matches_string") and call.args[-1].WhichOneof("kind") != "const_expr":
            raise Untranslatable("matches() with a pattern computed at evaluation")
        if overload not in _OPERATORS:
            raise Untranslatable(f"function {call.function} ({overload})")
        template, fails = _OPERATORS[overload]
        if any(nullable) and overload not in _NULL_COMPARING:
            # A nullable scalar's None meets the function only when it is not None: CEL has no
            # overload for null there, and says so.
            parameters = [f"a{index}" for index in range(len(codes))]
            names = tuple(self._type_name(argument) for argument in arguments)
            source = (
                f"_guarded(lambda {', '.join(parameters)}: {template.format(*parameters)}, "
                f"{call.function!r}, {call.HasField('target')}, {names!r}, {', '.join(c.source for c in codes)})"
            )
            return _Code(source, True)
        return _Code(template.format(*(code.source for code in codes)), fails or _fails(codes))

    def _is_wrapper(self, expr: Any) -> bool:
        return expr.id in self._types and self._types[expr.id].wrapper != 0

    def _type_name(self, expr: Any) -> str:
        """CEL's name for an argument's type in an error message (a wrapper's is its scalar's)."""
        kind = self._types[expr.id] if expr.id in self._types else None
        code = kind.wrapper or kind.primitive if kind is not None else 0
        if code not in _PRIMITIVE_NAMES:
            raise Untranslatable("a nullable scalar given to a function with a non-scalar argument")
        return _PRIMITIVE_NAMES[code]

    def _comprehension(self, comprehension: Any, loop_variables: frozenset[str]) -> _Code:
        if comprehension.iter_var2 or comprehension.accu_var != _ACCUMULATOR:
            raise Untranslatable("a comprehension that is not a standard macro")
        variable = comprehension.iter_var
        if not variable.isidentifier():
            raise Untranslatable(f"loop variable {variable!r}")
        items = self.expression(comprehension.iter_range, loop_variables)
        inner = loop_variables | {variable}
        name = _loop_variable(variable)
        shape = _macro(comprehension)
        if shape is None:
            raise Untranslatable("a comprehension that is not a standard macro")
        macro, predicate_expr, element_expr = shape
        predicate = self.expression(predicate_expr, inner) if predicate_expr is not None else None
        element = self.expression(element_expr, inner) if element_expr is not None else None
        if macro in ("all", "exists"):
            assert predicate is not None
            if predicate.may_fail:
                # Errors are absorbed by a false (all) or true (exists) element, as `&&` and `||` do.
                decisive = macro == "exists"
                return _Code(f"_quantified({items.source}, lambda {name}: {predicate.source}, {decisive})", True)
            builtin = "all" if macro == "all" else "any"
            return _Code(f"{builtin}({predicate.source} for {name} in {items.source})", items.may_fail)
        if macro == "exists_one":
            assert predicate is not None
            source = f"(sum(1 for {name} in {items.source} if {predicate.source}) == 1)"
            return _Code(source, items.may_fail or predicate.may_fail)
        assert element is not None
        condition = f" if {predicate.source}" if predicate is not None else ""
        source = f"tuple({element.source} for {name} in {items.source}{condition})"
        return _Code(source, _fails([items, element] + ([predicate] if predicate else [])))


def _macro(comprehension: Any) -> tuple[str, Any, Any] | None:
    """(macro, predicate, element) for the expansions of all, exists, exists_one, map and filter."""
    init, condition, step, result = (
        comprehension.accu_init,
        comprehension.loop_condition,
        comprehension.loop_step,
        comprehension.result,
    )
    if not _is_accumulator(result):
        if (
            _is_call(result, "_==_")
            and _is_accumulator(result.call_expr.args[0])
            and _constant_is(result.call_expr.args[1], "int64_value", 1)
        ):
            # exists_one: init 0, step `p ? @result + 1 : @result`, result `@result == 1`
            if _constant_is(init, "int64_value", 0) and _is_call(step, "_?_:_"):
                when_true = step.call_expr.args[1]
                if _is_call(when_true, "_+_") and _constant_is(when_true.call_expr.args[1], "int64_value", 1):
                    return "exists_one", step.call_expr.args[0], None
        return None
    # all: init true, step `@result && p`; exists: init false, step `@result || p`
    for macro, start, operator in (("all", True, "_&&_"), ("exists", False, "_||_")):
        if _constant_is(init, "bool_value", start) and _is_call(condition, "@not_strictly_false"):
            if _is_call(step, operator) and _is_accumulator(step.call_expr.args[0]):
                return macro, step.call_expr.args[1], None
    if init.WhichOneof("kind") == "list_expr" and not init.list_expr.elements:
        # map: step `@result + [e]`; filter and map(x, p, e): step `p ? @result + [e] : @result`
        if _appends_one(step):
            return "map", None, step.call_expr.args[1].list_expr.elements[0]
        if _is_call(step, "_?_:_") and _appends_one(step.call_expr.args[1]) and _is_accumulator(step.call_expr.args[2]):
            appended = step.call_expr.args[1].call_expr.args[1].list_expr.elements[0]
            return "map", step.call_expr.args[0], appended
    return None


def _appends_one(expr: Any) -> bool:
    if not (_is_call(expr, "_+_") and _is_accumulator(expr.call_expr.args[0])):
        return False
    added = expr.call_expr.args[1]
    return added.WhichOneof("kind") == "list_expr" and len(added.list_expr.elements) == 1


def _is_call(expr: Any, function: str) -> bool:
    return expr.WhichOneof("kind") == "call_expr" and expr.call_expr.function == function


def _is_accumulator(expr: Any) -> bool:
    return expr.WhichOneof("kind") == "ident_expr" and expr.ident_expr.name == _ACCUMULATOR


def _constant_is(expr: Any, kind: str, value: object) -> bool:
    if expr.WhichOneof("kind") != "const_expr" or expr.const_expr.WhichOneof("kind") != kind:
        return False
    found: object = getattr(expr.const_expr, kind)
    return found == value and type(found) is type(value)


def _constant(constant: Any) -> _Code:
    kind = constant.WhichOneof("kind")
    if kind in ("bool_value", "int64_value", "double_value", "string_value"):
        return _Code(repr(getattr(constant, kind)), False)
    if kind == "null_value":
        return _Code("None", False)
    raise Untranslatable(f"constant of kind {kind}")


def _logical(overload: str, left: _Code, right: _Code) -> _Code:
    if not left.may_fail:
        # Python's `and`/`or` stop at a decisive left operand and otherwise return the right one,
        # error included: exactly CEL's answer when the left operand cannot fail.
        operator = "and" if overload == "logical_and" else "or"
        return _Code(f"({left.source} {operator} {right.source})", right.may_fail)
    decisive = overload == "logical_or"
    return _Code(f"_absorbing(lambda: {left.source}, lambda: {right.source}, {decisive})", True)


def _fails(codes: Sequence[_Code]) -> bool:
    return any(code.may_fail for code in codes)


def _loop_variable(name: str) -> str:
    return f"v_{name}"


# --- the runtime the translated expressions call ---


def _present(value: object, name: str) -> object:
    if value is None:
        # cel-expr-python's words for a variable left out of the activation.
        raise CelEvaluationError(f'UNKNOWN: No value with name "{name}" found in Activation')
    return value


def _int64(value: int) -> int:
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise CelEvaluationError("OUT_OF_RANGE: integer overflow")
    return value


def _divide(dividend: int, divisor: int) -> int:
    if divisor == 0:
        raise CelEvaluationError("INVALID_ARGUMENT: divide by zero")
    quotient = abs(dividend) // abs(divisor)  # CEL truncates toward zero
    return _int64(quotient if (dividend < 0) == (divisor < 0) else -quotient)


def _modulo(dividend: int, divisor: int) -> int:
    if divisor == 0:
        raise CelEvaluationError("INVALID_ARGUMENT: modulus by zero")
    remainder = abs(dividend) % abs(divisor)  # the sign of the dividend, as in C
    return remainder if dividend >= 0 else -remainder


def _index_list(items: Sequence[object], index: int) -> object:
    if not 0 <= index < len(items):
        raise CelEvaluationError(f"UNKNOWN: Index error: index={index} size={len(items)}")
    return items[index]


def _index_map(mapping: Mapping[object, object], key: object) -> object:
    if key not in mapping:
        raise CelEvaluationError(_key_not_found(key))
    return mapping[key]


def _field(record: Mapping[str, object] | None, name: str) -> object:
    if record is None:
        raise CelEvaluationError("INVALID_ARGUMENT: Applying SELECT to non-message type")
    if name not in record:
        raise CelEvaluationError(_key_not_found(name))
    return record[name]


def _key_not_found(key: object) -> str:
    shown = f'"{key}"' if isinstance(key, str) else str(key)
    return f"NOT_FOUND: Key not found in map : {shown}"


@lru_cache(maxsize=256)
def _regex(pattern: str) -> Callable[[bytes], tuple[tuple[int, int], ...]]:
    try:
        compiled = re2.compile(pattern)
    except re2.error as error:
        raise CelEvaluationError(f"invalid regular expression {pattern!r}: {error}") from error
    # google-re2's `search` converts every match position between bytes and characters (5.4 µs a
    # call; 0.9 µs without): a yes/no answer needs none of it. Private API, hence the pinned version.
    return partial(compiled._regexp.Match, re2._Anchor.UNANCHORED)


def _matches(text: str, pattern: str) -> bool:
    encoded = text.encode()
    return _regex(pattern)(encoded, 0, len(encoded))[0] != re2._NULL_SPAN


def _split(text: str, separator: str) -> tuple[str, ...]:
    # An empty separator splits into characters (Go's strings.Split); Python refuses it.
    return tuple(text) if separator == "" else tuple(text.split(separator))


def _guarded(
    operation: Callable[..., object], function: str, receiver: bool, names: tuple[str, ...], *values: object
) -> object:
    """`operation(*values)`, or cel-expr-python's error when a value is null (a nullable scalar unset)."""
    if any(value is None for value in values):
        shown = ["null_type" if value is None else name for value, name in zip(values, names, strict=True)]
        call = f"({shown[0]}).{function}({', '.join(shown[1:])})" if receiver else f"{function}({', '.join(shown)})"
        raise CelEvaluationError(f"UNKNOWN: No matching overloads found : {call}")
    return operation(*values)


def _absorbing(left: Callable[[], bool], right: Callable[[], bool], decisive: bool) -> bool:
    """CEL's `&&` (`decisive` false) and `||` (true): a decisive operand wins over an error in the other."""
    try:
        value = left()
    except CelEvaluationError:
        if right() is decisive:
            return decisive
        raise
    return decisive if value is decisive else right()


def _quantified(items: Iterable[object], predicate: Callable[[object], bool], decisive: bool) -> bool:
    """CEL's `all` (`decisive` false) and `exists` (true): a decisive element wins over errors in others."""
    error: CelEvaluationError | None = None
    for item in items:
        try:
            if predicate(item) is decisive:
                return decisive
        except CelEvaluationError as failure:
            error = error or failure
    if error is not None:
        raise error
    return not decisive


_RUNTIME: Final[Mapping[str, object]] = {
    "__builtins__": {"all": all, "any": any, "bool": bool, "len": len, "sum": sum, "tuple": tuple},
    "_present": _present,
    "_int64": _int64,
    "_divide": _divide,
    "_modulo": _modulo,
    "_index_list": _index_list,
    "_index_map": _index_map,
    "_field": _field,
    "_guarded": _guarded,
    "_matches": _matches,
    "_split": _split,
    "_absorbing": _absorbing,
    "_quantified": _quantified,
    "_LOWER_ASCII": str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"),
    "_UPPER_ASCII": str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
}
