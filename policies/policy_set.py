"""The rules loaded from every policy file, ready to evaluate."""

from __future__ import annotations

from dataclasses import dataclass

from headwater.policies.context import Scope
from headwater.policies.rule import Rule
from headwater.policies.severity import Severity


@dataclass(frozen=True)
class RuleListing:
    """One line of `headwater policy list`: what a rule is and where it was defined."""

    id: str
    kind: str
    severity: Severity
    scopes: tuple[Scope, ...]
    description: str
    source: str


@dataclass(frozen=True)
class PolicySet:
    """Loaded rules in file order: defaults first, then the organisation's own."""

    rules: tuple[Rule, ...]

    def rules_for(self, scope: Scope) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if scope in rule.scopes)

    def has_rule(self, rule_id: str) -> bool:
        return any(rule.id == rule_id for rule in self.rules)

    def listing(self) -> tuple[RuleListing, ...]:
        return tuple(
            RuleListing(
                id=rule.id,
                kind=rule.kind,
                severity=rule.severity,
                scopes=tuple(sorted(rule.scopes)),
                description=rule.description,
                source=rule.source,
            )
            for rule in self.rules
        )
