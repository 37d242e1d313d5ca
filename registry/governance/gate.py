"""The policy gate: runs the rules in force against a change, with the waivers stored in the hub database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from headwater.policies import (
    DEFAULT_POLICY_FOLDER,
    Decision,
    PolicyContext,
    PolicySet,
    Waiver,
    evaluate,
    load_policies,
)
from headwater.policies.waiver import waiver_targets
from headwater.registry.config import RegistrySettings
from headwater.registry.governance.errors import violation_json
from headwater.registry.models import PolicyWaiver


class PolicyGate:
    """Holds the rules loaded at hub start; each decision reads the waivers active at that moment."""

    def __init__(self, policy_set: PolicySet) -> None:
        self.policy_set = policy_set

    @classmethod
    def from_settings(cls, settings: RegistrySettings) -> PolicyGate:
        """The shipped rules, then the organisation's `policy_dir`; raises `PolicyFilesError` listing every
        problem with file and line, so a broken file stops the hub instead of being skipped."""
        folders = [DEFAULT_POLICY_FOLDER, *([settings.policy_dir] if settings.policy_dir is not None else [])]
        return cls(load_policies(folders))

    def decide(self, session: Session, context: PolicyContext) -> Decision:
        now = datetime.now(UTC)
        return evaluate(self.policy_set, context, active_waivers(session, context, now), now)

    def audit_details(self, context: PolicyContext, decision: Decision) -> dict[str, Any]:
        """The decision as stored in the audit log: which rules ran, and what each found."""
        return {
            "policy": {
                "scope": context.scope.value,
                "rules": [rule.id for rule in self.policy_set.rules_for(context.scope)],
                "allowed": decision.allowed,
                "violations": [violation_json(violation) for violation in decision.violations],
                "warnings": [violation_json(violation) for violation in decision.warnings],
                "waived": [
                    {
                        **violation_json(waived.violation),
                        "waiver": {
                            "target": waived.waiver.target,
                            "granted_by": waived.waiver.granted_by,
                            "expires_at": waived.waiver.expires_at.isoformat(),
                            "reason": waived.waiver.reason,
                        },
                    }
                    for waived in decision.waived
                ],
            }
        }


def active_waivers(session: Session, context: PolicyContext, now: datetime) -> list[Waiver]:
    """Unrevoked, unexpired waivers naming a stream or subject of `context`."""
    targets = waiver_targets(context)
    if not targets:
        return []
    query = select(PolicyWaiver).where(
        PolicyWaiver.target.in_(targets), PolicyWaiver.revoked_at.is_(None), PolicyWaiver.expires_at > now
    )
    return [waiver_of(row) for row in session.scalars(query)]


def waiver_of(row: PolicyWaiver) -> Waiver:
    return Waiver(row.rule_id, row.target, row.expires_at, row.granted_by, row.reason)
