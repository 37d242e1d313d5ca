"""Every stream has a non-null key schema, fixed once registered."""

from headwater.policies.context import PolicyContext
from headwater.policies.rule import Params
from headwater.policies.violation import Finding


def _stream_label(context: PolicyContext) -> str:
    return f"stream '{context.stream.name}'" if context.stream is not None else "this stream"


def check_key_schema_required(context: PolicyContext, params: Params) -> list[Finding]:
    key_schema = context.key_schema
    if key_schema is not None and key_schema.root_type != "null":
        return []
    return [Finding("key_schema", f"Key schema of {_stream_label(context)} is missing or null.")]


def check_key_schema_immutable(context: PolicyContext, params: Params) -> list[Finding]:
    if not context.key_schema_changed:
        return []
    return [Finding("key_schema", f"Key schema of {_stream_label(context)} cannot change after registration.")]
