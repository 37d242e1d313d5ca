"""Evaluate every rule that applies to a change and decide whether it may go ahead."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cel_expr_python import cel

from headwater.policies.cel_context import build_activation
from headwater.policies.cel_python import CelEvaluationError
from headwater.policies.context import PolicyContext
from headwater.policies.decision import Decision, WaivedViolation
from headwater.policies.errors import NaiveTimestampError
from headwater.policies.policy_set import PolicySet
from headwater.policies.rule import BuiltinCheck, CelCheck, Rule
from headwater.policies.severity import Severity
from headwater.policies.violation import Finding, Violation
from headwater.policies.waiver import Waiver


def evaluate(policy_set: PolicySet, context: PolicyContext, waivers: Sequence[Waiver], now: datetime) -> Decision:
    """Every violation of every rule for `context.scope`, split into blocking, warnings and waived."""
    if now.tzinfo is None:
        raise NaiveTimestampError()
    rules = policy_set.rules_for(context.scope)
    # Rules outside the Python translation run in cel-expr-python, on the context converted once for all.
    interpreted = [rule.check for rule in rules if isinstance(rule.check, CelCheck) and rule.check.translated is None]
    variables = frozenset().union(*(check.variables for check in interpreted))
    activation = build_activation(context, variables) if interpreted else None
    violations: list[Violation] = []
    warnings: list[Violation] = []
    waived: list[WaivedViolation] = []
    for rule in rules:
        waiver = next((waiver for waiver in waivers if waiver.covers(rule.id, context, now)), None)
        for finding in _findings(rule, context, activation):
            violation = Violation(rule.id, rule.severity, finding.path, finding.message, rule.fix_hint)
            if waiver is not None:
                waived.append(WaivedViolation(violation, waiver))
            elif rule.severity is Severity.ERROR:
                violations.append(violation)
            else:
                warnings.append(violation)
    return Decision(tuple(violations), tuple(warnings), tuple(waived))


def _findings(rule: Rule, context: PolicyContext, activation: cel.Activation | None) -> list[Finding]:
    if isinstance(rule.check, BuiltinCheck):
        return rule.check.function(context, rule.check.params)
    check = rule.check
    if check.translated is not None:
        try:
            holds = check.translated(context)
        except CelEvaluationError as error:
            return [_evaluation_error(check, str(error))]
        return [] if holds else [Finding(check.path, check.message)]
    assert activation is not None
    result = check.compiled.eval(activation)
    # CEL returns evaluation errors as values (whose .value() is a truthy string), never raises them.
    if result.type() == cel.Type.ERROR:
        return [_evaluation_error(check, result.value())]
    return [] if result.value() is True else [Finding(check.path, check.message)]


def _evaluation_error(check: CelCheck, error: str) -> Finding:
    return Finding(check.path, f"{check.message} (CEL evaluation error: {error})")
