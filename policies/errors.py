"""Errors raised by the policy engine.

Hierarchy::

    PolicyError
    ├── PolicyFileError            one problem in one policy file, with file, line and rule
    ├── PolicyFilesError           every PolicyFileError found while loading, raised together
    ├── PolicyFolderNotFoundError  a configured policy folder does not exist
    ├── NaiveTimestampError        `now` was passed without a timezone
    └── WaiverError
        ├── WaiverForUnknownRuleError
        ├── WaiverAlreadyExpiredError
        └── WaiverWithoutTimezoneError
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path


class PolicyError(Exception):
    """Root of every error raised by `headwater.policies`."""


class PolicyFileError(PolicyError):
    """A policy file is broken at `line`; `rule_id` names the rule when the problem is inside one."""

    def __init__(self, file: Path | str, line: int, rule_id: str | None, problem: str) -> None:
        self.file = str(file)
        self.line = line
        self.rule_id = rule_id
        self.problem = problem
        where = f"{self.file}:{line}: "
        rule = f"rule '{rule_id}': " if rule_id is not None else ""
        super().__init__(f"{where}{rule}{problem}")


class PolicyFilesError(PolicyError):
    """All problems found while loading policy files; fix them all and load again."""

    def __init__(self, errors: Sequence[PolicyFileError]) -> None:
        self.errors = tuple(errors)
        count = len(self.errors)
        lines = "\n".join(str(error) for error in self.errors)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in policy files:\n{lines}")


class PolicyFolderNotFoundError(PolicyError):
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        super().__init__(f"Policy folder '{folder}' does not exist. Create it or fix the configured path.")


class NaiveTimestampError(PolicyError):
    def __init__(self) -> None:
        super().__init__("`now` has no timezone; pass an aware datetime, e.g. datetime.now(UTC).")


class WaiverError(PolicyError):
    """A waiver cannot be granted."""


class WaiverForUnknownRuleError(WaiverError):
    def __init__(self, rule_id: str, target: str) -> None:
        self.rule_id = rule_id
        super().__init__(
            f"Waiver for '{target}' names unknown rule '{rule_id}'. List rules with `headwater policy list`."
        )


class WaiverAlreadyExpiredError(WaiverError):
    def __init__(self, rule_id: str, target: str, expires_at: datetime, now: datetime) -> None:
        self.rule_id = rule_id
        super().__init__(
            f"Waiver of rule '{rule_id}' for '{target}' expired at {expires_at.isoformat()}, "
            f"before {now.isoformat()}. Choose an expiry in the future."
        )


class WaiverWithoutTimezoneError(WaiverError):
    def __init__(self, rule_id: str, target: str) -> None:
        super().__init__(
            f"Waiver of rule '{rule_id}' for '{target}' has an expiry without a timezone. Give it one, e.g. UTC."
        )
