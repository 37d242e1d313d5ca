"""A stream's schema fields are documented, and are never removed without a default.

Both govern the schemas of catalog streams: a subject outside the catalog (no `context.stream`) is
not checked, so the hub stays a drop-in registry for schemas it does not govern."""

from headwater.policies.context import PolicyContext
from headwater.policies.rule import Params
from headwater.policies.violation import Finding


def field_path(path: str, attribute: str = "") -> str:
    """Context path of a schema field, e.g. `schema.fields["amount.units"].doc`."""
    return f'schema.fields["{path}"]{"." + attribute if attribute else ""}'


def check_fields_documented(context: PolicyContext, params: Params) -> list[Finding]:
    schema = context.schema
    if schema is None or context.stream is None:
        return []
    return [
        Finding(field_path(field.path, "doc"), f"Field '{field.path}' of '{schema.subject}' has no doc.")
        for field in schema.fields
        if not field.doc.strip()
    ]


def check_no_field_removal_without_default(context: PolicyContext, params: Params) -> list[Finding]:
    schema, previous = context.schema, context.previous_schema
    if schema is None or previous is None or context.stream is None:
        return []
    kept = {field.path for field in schema.fields}
    return [
        Finding(
            field_path(field.path),
            f"Field '{field.path}' of '{schema.subject}' was removed but had no default in the previous version.",
        )
        for field in previous.fields
        if field.path not in kept and not field.has_default
    ]
