"""Time-limited exceptions to one rule for one subject or stream."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from headwater.policies.context import PolicyContext
from headwater.policies.errors import WaiverAlreadyExpiredError, WaiverForUnknownRuleError, WaiverWithoutTimezoneError
from headwater.policies.policy_set import PolicySet


@dataclass(frozen=True)
class Waiver:
    """Lets `target` (a subject or stream name) break rule `rule_id` until `expires_at` (exclusive)."""

    rule_id: str
    target: str
    expires_at: datetime
    granted_by: str
    reason: str

    def __post_init__(self) -> None:
        # Comparing a naive expiry with an aware `now` would raise TypeError deep inside evaluation.
        if self.expires_at.tzinfo is None:
            raise WaiverWithoutTimezoneError(self.rule_id, self.target)

    def is_active(self, now: datetime) -> bool:
        return now < self.expires_at

    def covers(self, rule_id: str, context: PolicyContext, now: datetime) -> bool:
        """Whether this waiver excuses `rule_id` for the stream or subject of `context` at `now`."""
        return rule_id == self.rule_id and self.target in waiver_targets(context) and self.is_active(now)


def waiver_targets(context: PolicyContext) -> frozenset[str]:
    """The stream and subject names a waiver may name for this context."""
    names = {
        context.stream.name if context.stream else None,
        context.registered_stream.name if context.registered_stream else None,
        context.schema.subject if context.schema else None,
        context.key_schema.subject if context.key_schema else None,
    }
    return frozenset(name for name in names if name)


def validate_waiver(waiver: Waiver, policy_set: PolicySet, now: datetime) -> None:
    """Refuse a waiver for a rule that is not loaded, or one already expired at `now`."""
    if not policy_set.has_rule(waiver.rule_id):
        raise WaiverForUnknownRuleError(waiver.rule_id, waiver.target)
    if not waiver.is_active(now):
        raise WaiverAlreadyExpiredError(waiver.rule_id, waiver.target, waiver.expires_at, now)
