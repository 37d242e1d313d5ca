"""Built-in policy checks: small pure functions registered by name in `BUILTIN_DEFINITIONS`."""

from headwater.policies.builtin.catalog import BUILTIN_DEFINITIONS, BuiltinDefinition

__all__ = ["BUILTIN_DEFINITIONS", "BuiltinDefinition"]
