"""Policies for tests: the shipped gate for services built directly, and an organisation's own rules in CEL."""

from headwater.policies import DEFAULT_POLICY_FOLDER, load_policies
from headwater.registry.governance.gate import PolicyGate

SHIPPED_POLICIES = PolicyGate(load_policies([DEFAULT_POLICY_FOLDER]))

ORGANISATION_RULES = """\
rules:
  - id: snake-case-field-names
    description: Field names are snake_case.
    applies_to: [schema_version]
    severity: error
    cel: schema.fields.all(f, f.name.matches('^[a-z][a-z0-9_]*$'))
    message: A field name is not snake_case.
    fix_hint: Rename the field to snake_case, e.g. orderId to order_id.
    path: schema.fields
  - id: no-float-amounts
    description: Money never uses floating point.
    applies_to: [schema_version]
    severity: error
    cel: "!schema.fields.exists(f, f.name.contains('amount') && f.type in ['float', 'double'])"
    message: An amount field uses a floating-point type.
    fix_hint: Use long minor units or the decimal logical type.
    path: schema.fields
  - id: updated-at-present
    description: Records say when they last changed.
    applies_to: [schema_version]
    severity: warn
    cel: schema.fields.exists(f, f.name == 'updated_at')
    message: No updated_at field.
    fix_hint: Add an updated_at timestamp.
"""
"""Two error rules and one warning, in CEL only (no Python), as an organisation writes them."""
