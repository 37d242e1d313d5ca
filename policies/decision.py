"""The outcome of evaluating every applicable rule against one change."""

from __future__ import annotations

from dataclasses import dataclass

from headwater.policies.violation import Violation
from headwater.policies.waiver import Waiver


@dataclass(frozen=True)
class WaivedViolation:
    """A violation an active waiver excused."""

    violation: Violation
    waiver: Waiver


@dataclass(frozen=True)
class Decision:
    """violations: errors that block; warnings: reported only; waived: excused by a waiver."""

    violations: tuple[Violation, ...]
    warnings: tuple[Violation, ...]
    waived: tuple[WaivedViolation, ...]

    @property
    def allowed(self) -> bool:
        return not self.violations
