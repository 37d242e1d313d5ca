"""The policy gate tests use when they build registry services directly: the rules headwater ships."""

from headwater.policies import DEFAULT_POLICY_FOLDER, load_policies
from headwater.registry.governance.gate import PolicyGate

SHIPPED_POLICIES = PolicyGate(load_policies([DEFAULT_POLICY_FOLDER]))
