"""Evaluate every rule that applies to a change and decide whether it may go ahead."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cel_expr_python import cel

from headwater.policies.cel_context import build_activation
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
    # Converting the context to CEL values once serves every CEL rule of this evaluation.
    cel_checks = [rule.check for rule in rules if isinstance(rule.check, CelCheck)]
    variables = frozenset().union(*(check.variables for check in cel_checks))
    activation = build_activation(context, variables) if cel_checks else None
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
    assert activation is not None
    return _cel_findings(rule.check, activation)


def _cel_findings(check: CelCheck, activation: cel.Activation) -> list[Finding]:
    result = check.compiled.eval(activation)
    # CEL returns evaluation errors as values (whose .value() is a truthy string), never raises them.
    if result.type() == cel.Type.ERROR:
        return [Finding(check.path, f"{check.message} (CEL evaluation error: {result.value()})")]
    if result.value() is True:
        return []
    return [Finding(check.path, check.message)]
