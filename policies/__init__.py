"""Governance rules as code (issue 4). Pure: no I/O except reading policy files at load, no clock.

Load the shipped defaults and an organisation's folder, then evaluate a typed context::

    policy_set = load_policies([DEFAULT_POLICY_FOLDER, organisation_folder])
    decision = evaluate(policy_set, context, waivers, now)
"""

from headwater.policies.context import PolicyContext, Requester, SchemaField, SchemaTree, Scope, StreamSpec
from headwater.policies.decision import Decision, WaivedViolation
from headwater.policies.engine import evaluate
from headwater.policies.errors import (
    NaiveTimestampError,
    PolicyError,
    PolicyFileError,
    PolicyFilesError,
    PolicyFolderNotFoundError,
    WaiverAlreadyExpiredError,
    WaiverError,
    WaiverForUnknownRuleError,
    WaiverWithoutTimezoneError,
)
from headwater.policies.loader import DEFAULT_POLICY_FOLDER, load_policies
from headwater.policies.policy_set import PolicySet, RuleListing
from headwater.policies.rule import BuiltinCheck, CelCheck, Rule
from headwater.policies.severity import Severity
from headwater.policies.violation import Finding, Violation
from headwater.policies.waiver import Waiver, validate_waiver

__all__ = [
    "DEFAULT_POLICY_FOLDER",
    "BuiltinCheck",
    "CelCheck",
    "Decision",
    "Finding",
    "NaiveTimestampError",
    "PolicyContext",
    "PolicyError",
    "PolicyFileError",
    "PolicyFilesError",
    "PolicyFolderNotFoundError",
    "PolicySet",
    "Requester",
    "Rule",
    "RuleListing",
    "SchemaField",
    "SchemaTree",
    "Scope",
    "Severity",
    "StreamSpec",
    "Violation",
    "WaivedViolation",
    "Waiver",
    "WaiverAlreadyExpiredError",
    "WaiverError",
    "WaiverForUnknownRuleError",
    "WaiverWithoutTimezoneError",
    "evaluate",
    "load_policies",
    "validate_waiver",
]
