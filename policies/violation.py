"""What a check found, and the violation reported for it."""

from dataclasses import dataclass

from headwater.policies.severity import Severity


@dataclass(frozen=True)
class Finding:
    """One problem found by a check; the engine turns it into a `Violation` of the rule.

    `path` points into the context, e.g. `stream.topic_config["cleanup.policy"]` or
    `schema.fields["amount.units"].doc`.
    """

    path: str
    message: str


@dataclass(frozen=True)
class Violation:
    """A rule that did not hold, with where, why and how to fix it."""

    rule_id: str
    severity: Severity
    path: str
    message: str
    fix_hint: str
