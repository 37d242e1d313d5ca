"""How strongly a rule is enforced."""

from enum import StrEnum


class Severity(StrEnum):
    """`ERROR` blocks the change; `WARN` only reports it."""

    ERROR = "error"
    WARN = "warn"
