"""Errors of the hub's governance: a change refused by policy, a waiver that cannot be granted.

RegistryError
├── PolicyViolationError       422 42290: a change breaks `error` rules; lists every violation
├── WaiverRefusedError         422 42291: unknown rule, expiry in the past or without timezone
├── WaiverNotFoundError        404 40490
└── PolicyAdminRequiredError   403 40390: waivers are granted and revoked by the hub admin only
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from headwater.policies import Violation
from headwater.registry.errors import RegistryError


class PolicyViolationError(RegistryError):
    """The change was refused and nothing was stored; `violations` is every blocking violation."""

    status_code = 422
    error_code = 42290

    def __init__(self, target: str, violations: Sequence[Violation]) -> None:
        self.violations = tuple(violations)
        count = len(self.violations)
        lines = "\n".join(
            f"  - [{violation.rule_id}] {violation.path}: {violation.message} Fix: {violation.fix_hint}"
            for violation in self.violations
        )
        super().__init__(
            f"Refused by policy: '{target}' breaks {count} rule{'s' if count != 1 else ''}, nothing was stored:\n"
            f"{lines}\nFix every violation, or ask the hub admin for a time-limited waiver."
        )

    def body_extras(self) -> dict[str, Any]:
        return {"violations": [violation_json(violation) for violation in self.violations]}


class WaiverRefusedError(RegistryError):
    status_code = 422
    error_code = 42291


class WaiverNotFoundError(RegistryError):
    status_code = 404
    error_code = 40490

    def __init__(self, waiver_id: int) -> None:
        super().__init__(f"No waiver with id {waiver_id}. List waivers with `headwater policy waivers`.")


class PolicyAdminRequiredError(RegistryError):
    status_code = 403
    error_code = 40390

    def __init__(self, identity: str) -> None:
        super().__init__(f"Identity '{identity}' is not the hub admin; only the admin grants and revokes waivers.")


def violation_json(violation: Violation) -> dict[str, str]:
    return {
        "rule_id": violation.rule_id,
        "severity": violation.severity.value,
        "path": violation.path,
        "message": violation.message,
        "fix_hint": violation.fix_hint,
    }
