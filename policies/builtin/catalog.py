"""The table of built-in checks, by the name a policy file gives after `builtin:`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from headwater.policies.builtin.compatibility import check_source_stream_full_transitive
from headwater.policies.builtin.fields import check_fields_documented, check_no_field_removal_without_default
from headwater.policies.builtin.key_schema import check_key_schema_immutable, check_key_schema_required
from headwater.policies.builtin.naming import check_stream_domain_owned_by_caller, check_stream_name_format
from headwater.policies.builtin.ownership import check_owner_team_and_contact_present
from headwater.policies.builtin.partitions import check_partitions_immutable, check_partitions_within_bounds
from headwater.policies.builtin.pii import check_pii_not_in_public_streams, check_pii_requires_purpose
from headwater.policies.builtin.retention import (
    SEVEN_DAYS_MS,
    check_delete_retention_covers_rebuild_window,
    check_source_stream_compacted_forever,
)
from headwater.policies.context import Scope
from headwater.policies.rule import CheckFunction, Params


@dataclass(frozen=True)
class BuiltinDefinition:
    """A built-in check: the scopes it understands, its default parameters and the fix hint it suggests."""

    name: str
    function: CheckFunction
    scopes: frozenset[Scope]
    fix_hint: str
    default_params: Params = field(default_factory=lambda: MappingProxyType({}))


_SCHEMA: Final = frozenset({Scope.SCHEMA_VERSION})
_REGISTRATION: Final = frozenset({Scope.STREAM_REGISTRATION})
_STREAM_CHANGES: Final = frozenset({Scope.STREAM_REGISTRATION, Scope.TOPIC_CONFIG})
_SCHEMA_AND_REGISTRATION: Final = frozenset({Scope.SCHEMA_VERSION, Scope.STREAM_REGISTRATION})

_DEFINITIONS: Final = (
    BuiltinDefinition(
        "stream-name-format",
        check_stream_name_format,
        _REGISTRATION,
        "Name the stream <domain>.<entity> in lowercase, e.g. payments.order-value.",
    ),
    BuiltinDefinition(
        "stream-domain-owned-by-caller",
        check_stream_domain_owned_by_caller,
        frozenset({Scope.STREAM_REGISTRATION, Scope.SCHEMA_VERSION, Scope.TOPIC_CONFIG}),
        "Register streams in your own domain, or ask an owner of that domain to do it.",
    ),
    BuiltinDefinition(
        "source-stream-compacted-forever",
        check_source_stream_compacted_forever,
        _STREAM_CHANGES,
        "Set cleanup.policy=compact and retention.ms=-1 on source streams.",
    ),
    BuiltinDefinition(
        "delete-retention-covers-rebuild-window",
        check_delete_retention_covers_rebuild_window,
        _STREAM_CHANGES,
        "Raise delete.retention.ms to at least the consumer rebuild window.",
        MappingProxyType({"rebuild_window_ms": SEVEN_DAYS_MS}),
    ),
    BuiltinDefinition(
        "key-schema-required",
        check_key_schema_required,
        _SCHEMA_AND_REGISTRATION,
        "Register a non-null key schema for the stream's key subject.",
    ),
    BuiltinDefinition(
        "key-schema-immutable",
        check_key_schema_immutable,
        _SCHEMA_AND_REGISTRATION,
        "Keep the registered key schema; register a new stream to change keys.",
    ),
    BuiltinDefinition(
        "partitions-immutable",
        check_partitions_immutable,
        _STREAM_CHANGES,
        "Keep the registered partition count; register a new stream and backfill it to repartition.",
    ),
    BuiltinDefinition(
        "source-stream-full-transitive",
        check_source_stream_full_transitive,
        _REGISTRATION,
        "Set the subject's compatibility to FULL_TRANSITIVE.",
    ),
    BuiltinDefinition(
        "fields-documented",
        check_fields_documented,
        _SCHEMA,
        'Add a "doc" to every field of the schema.',
    ),
    BuiltinDefinition(
        "pii-requires-purpose",
        check_pii_requires_purpose,
        frozenset({Scope.ACCESS_REQUEST}),
        "State the purpose of the access request.",
    ),
    BuiltinDefinition(
        "pii-not-in-public-streams",
        check_pii_not_in_public_streams,
        _SCHEMA_AND_REGISTRATION,
        "Remove the PII fields or drop the stream's public tag.",
    ),
    BuiltinDefinition(
        "partitions-within-bounds",
        check_partitions_within_bounds,
        _STREAM_CHANGES,
        "Choose a partition count within the allowed bounds.",
        MappingProxyType({"minimum": 1, "maximum": 64}),
    ),
    BuiltinDefinition(
        "no-field-removal-without-default",
        check_no_field_removal_without_default,
        _SCHEMA,
        "Keep the field, or first release a version that gives it a default.",
    ),
    BuiltinDefinition(
        "owner-team-and-contact-present",
        check_owner_team_and_contact_present,
        _REGISTRATION,
        "Set owner_team and contact on the stream.",
    ),
)

BUILTIN_DEFINITIONS: Final[Mapping[str, BuiltinDefinition]] = MappingProxyType(
    {definition.name: definition for definition in _DEFINITIONS}
)
