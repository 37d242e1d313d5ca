"""A loaded rule: where it applies, how severe it is, and the check it runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cel_expr_python import cel

from headwater.policies.cel_python import CompiledRule
from headwater.policies.context import PolicyContext, Scope
from headwater.policies.severity import Severity
from headwater.policies.violation import Finding

Params = Mapping[str, int]
"""Parameters of a built-in check, e.g. `{"maximum": 64}`; every value is an integer."""

CheckFunction = Callable[[PolicyContext, Params], list[Finding]]
"""A built-in check: pure, returns every finding (empty when the rule holds)."""


@dataclass(frozen=True)
class BuiltinCheck:
    """A rule backed by a built-in check function, with its parameters resolved (defaults filled in)."""

    name: str
    function: CheckFunction
    params: Params


@dataclass(frozen=True)
class CelCheck:
    """A rule written as a boolean CEL expression, compiled once when the file is loaded.

    message and path describe the violation reported when the expression is false.
    """

    expression: str
    compiled: cel.Expression
    message: str
    path: str
    variables: frozenset[str]
    """The context variables the expression reads (see `cel_context.referenced_variables`)."""
    translated: CompiledRule | None
    """The expression as Python (see `cel_python`); `None` when it uses CEL outside the translated subset."""


@dataclass(frozen=True)
class Rule:
    """One governance rule and the place in a policy file that defined it."""

    id: str
    description: str
    scopes: frozenset[Scope]
    severity: Severity
    check: BuiltinCheck | CelCheck
    fix_hint: str
    source_file: str
    source_line: int

    @property
    def source(self) -> str:
        """`file:line` of the rule's definition."""
        return f"{self.source_file}:{self.source_line}"

    @property
    def kind(self) -> str:
        """`builtin:<name>` or `cel`, for listings."""
        return f"builtin:{self.check.name}" if isinstance(self.check, BuiltinCheck) else "cel"
