"""Fields tagged `pii` need a stated access purpose and never appear in public streams."""

from headwater.policies.builtin.fields import field_path
from headwater.policies.context import PolicyContext, SchemaField
from headwater.policies.rule import Params
from headwater.policies.violation import Finding

PII_TAG = "pii"
PUBLIC_TAG = "public"


def _pii_fields(context: PolicyContext) -> list[SchemaField]:
    return [field for field in context.schema.fields if PII_TAG in field.tags] if context.schema else []


def check_pii_requires_purpose(context: PolicyContext, params: Params) -> list[Finding]:
    pii_fields = _pii_fields(context)
    if not pii_fields or (context.grant_purpose or "").strip():
        return []
    names = ", ".join(field.path for field in pii_fields)
    return [Finding("grant_purpose", f"Access to PII fields ({names}) requires a stated purpose.")]


def check_pii_not_in_public_streams(context: PolicyContext, params: Params) -> list[Finding]:
    stream = context.stream
    if stream is None or PUBLIC_TAG not in stream.tags:
        return []
    return [
        Finding(
            field_path(field.path, "tags"), f"PII field '{field.path}' is not allowed in public stream '{stream.name}'."
        )
        for field in _pii_fields(context)
    ]
