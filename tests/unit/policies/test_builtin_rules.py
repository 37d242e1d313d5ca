"""Each built-in check, once holding and once broken, with the exact findings it reports."""

from dataclasses import replace
from types import MappingProxyType

import pytest

from headwater.policies import Finding, PolicyContext, Requester, Scope
from headwater.policies.builtin import BUILTIN_DEFINITIONS
from tests.unit.policies.contexts import VALUE_SCHEMA, context, stream, topic_config

REGISTRATION = Scope.STREAM_REGISTRATION
SCHEMA = Scope.SCHEMA_VERSION
WITHOUT_EMAIL = replace(VALUE_SCHEMA, fields=VALUE_SCHEMA.fields[:3])

PASSING = [
    ("stream-name-format", context(REGISTRATION)),
    ("stream-domain-owned-by-caller", context(REGISTRATION)),
    ("stream-domain-owned-by-caller", context(REGISTRATION, requester=Requester("root", "platform", is_admin=True))),
    ("source-stream-compacted-forever", context(REGISTRATION)),
    ("source-stream-compacted-forever", context(REGISTRATION, stream=stream(is_source=False, topic_config={}))),
    ("delete-retention-covers-rebuild-window", context(Scope.TOPIC_CONFIG)),
    ("key-schema-required", context(REGISTRATION)),
    ("key-schema-immutable", context(SCHEMA)),
    ("partitions-immutable", context(Scope.TOPIC_CONFIG)),
    ("partitions-immutable", context(REGISTRATION, registered_stream=None, stream=stream(partitions=12))),
    ("source-stream-full-transitive", context(REGISTRATION)),
    ("source-stream-full-transitive", context(REGISTRATION, stream=stream(is_source=False, compatibility="BACKWARD"))),
    ("fields-documented", context(SCHEMA)),
    # A subject outside the catalog (no stream) is not governed by the stream schema rules.
    (
        "fields-documented",
        context(SCHEMA, stream=None, schema=replace(VALUE_SCHEMA, fields=(replace(VALUE_SCHEMA.fields[2], doc=""),))),
    ),
    ("pii-requires-purpose", context(Scope.ACCESS_REQUEST)),
    ("pii-requires-purpose", context(Scope.ACCESS_REQUEST, schema=WITHOUT_EMAIL, grant_purpose=None)),
    ("pii-not-in-public-streams", context(SCHEMA)),
    ("pii-not-in-public-streams", context(SCHEMA, schema=WITHOUT_EMAIL, stream=stream(tags=("public",)))),
    ("partitions-within-bounds", context(REGISTRATION)),
    ("no-field-removal-without-default", context(SCHEMA)),
    (
        "no-field-removal-without-default",
        context(
            SCHEMA,
            schema=WITHOUT_EMAIL,
            previous_schema=replace(
                VALUE_SCHEMA, fields=(*WITHOUT_EMAIL.fields, replace(VALUE_SCHEMA.fields[3], has_default=True))
            ),
        ),
    ),
    ("no-field-removal-without-default", context(SCHEMA, stream=None, schema=WITHOUT_EMAIL)),
    ("owner-team-and-contact-present", context(REGISTRATION)),
]

FAILING = [
    (
        "stream-name-format",
        context(REGISTRATION, stream=stream(name="OrderValue")),
        [Finding("stream.name", "Stream name 'OrderValue' is not of the form <domain>.<entity>.")],
    ),
    (
        "stream-domain-owned-by-caller",
        context(REGISTRATION, requester=Requester("shop-service", "shop")),
        [
            Finding(
                "stream.domain",
                "Domain 'payments' of stream 'payments.order-value' is not owned by 'shop-service' (domain 'shop').",
            )
        ],
    ),
    (
        "source-stream-compacted-forever",
        context(REGISTRATION, stream=stream(topic_config=MappingProxyType({"cleanup.policy": "delete"}))),
        [
            Finding(
                'stream.topic_config["cleanup.policy"]',
                "Source stream 'payments.order-value' has cleanup.policy 'delete', not 'compact'.",
            ),
            Finding(
                'stream.topic_config["retention.ms"]',
                "Source stream 'payments.order-value' has retention.ms 604800000, not unlimited (-1).",
            ),
        ],
    ),
    (
        "delete-retention-covers-rebuild-window",
        context(Scope.TOPIC_CONFIG, stream=stream(topic_config=topic_config(delete_retention_ms="86400000"))),
        [
            Finding(
                'stream.topic_config["delete.retention.ms"]',
                "Stream 'payments.order-value' keeps tombstones for 86400000 ms, "
                "less than the consumer rebuild window of 604800000 ms.",
            )
        ],
    ),
    (
        "delete-retention-covers-rebuild-window",
        context(Scope.TOPIC_CONFIG, stream=stream(topic_config=MappingProxyType({}))),
        [
            Finding(
                'stream.topic_config["delete.retention.ms"]',
                "Stream 'payments.order-value' keeps tombstones for 86400000 ms (Kafka default), "
                "less than the consumer rebuild window of 604800000 ms.",
            )
        ],
    ),
    (
        "key-schema-required",
        context(REGISTRATION, key_schema=None),
        [Finding("key_schema", "Key schema of stream 'payments.order-value' is missing or null.")],
    ),
    (
        "key-schema-required",
        context(REGISTRATION, key_schema=replace(VALUE_SCHEMA, role="key", root_type="null", fields=())),
        [Finding("key_schema", "Key schema of stream 'payments.order-value' is missing or null.")],
    ),
    (
        "key-schema-immutable",
        context(SCHEMA, key_schema_changed=True),
        [Finding("key_schema", "Key schema of stream 'payments.order-value' cannot change after registration.")],
    ),
    (
        "partitions-immutable",
        context(Scope.TOPIC_CONFIG, stream=stream(partitions=12)),
        [
            Finding(
                "stream.partitions",
                "Stream 'payments.order-value' was registered with 6 partitions; "
                "changing it to 12 would move keys between partitions.",
            )
        ],
    ),
    (
        "source-stream-full-transitive",
        context(REGISTRATION, stream=stream(compatibility="BACKWARD")),
        [
            Finding(
                "stream.compatibility",
                "Source stream 'payments.order-value' has compatibility BACKWARD, not FULL_TRANSITIVE.",
            )
        ],
    ),
    (
        "fields-documented",
        context(SCHEMA, schema=replace(VALUE_SCHEMA, fields=(replace(VALUE_SCHEMA.fields[2], doc=" "),))),
        [
            Finding(
                'schema.fields["amount.units"].doc', "Field 'amount.units' of 'payments.order-value-value' has no doc."
            )
        ],
    ),
    (
        "pii-requires-purpose",
        context(Scope.ACCESS_REQUEST, grant_purpose=None),
        [Finding("grant_purpose", "Access to PII fields (email) requires a stated purpose.")],
    ),
    (
        "pii-not-in-public-streams",
        context(SCHEMA, stream=stream(tags=("source", "public"))),
        [
            Finding(
                'schema.fields["email"].tags',
                "PII field 'email' is not allowed in public stream 'payments.order-value'.",
            )
        ],
    ),
    (
        "partitions-within-bounds",
        context(REGISTRATION, stream=stream(partitions=65)),
        [Finding("stream.partitions", "Stream 'payments.order-value' has 65 partitions, outside 1..64.")],
    ),
    (
        "partitions-within-bounds",
        context(REGISTRATION, stream=stream(partitions=0)),
        [Finding("stream.partitions", "Stream 'payments.order-value' has 0 partitions, outside 1..64.")],
    ),
    (
        "no-field-removal-without-default",
        context(SCHEMA, schema=WITHOUT_EMAIL),
        [
            Finding(
                'schema.fields["email"]',
                "Field 'email' of 'payments.order-value-value' was removed but had no default in the previous version.",
            )
        ],
    ),
    (
        "owner-team-and-contact-present",
        context(REGISTRATION, stream=stream(owner_team="", contact=" ")),
        [
            Finding("stream.owner_team", "Stream 'payments.order-value' has no owner team."),
            Finding("stream.contact", "Stream 'payments.order-value' has no contact."),
        ],
    ),
]


def run_builtin(name: str, policy_context: PolicyContext) -> list[Finding]:
    definition = BUILTIN_DEFINITIONS[name]
    return definition.function(policy_context, definition.default_params)


@pytest.mark.parametrize(("name", "policy_context"), PASSING, ids=[name for name, _ in PASSING])
def test_builtin_rule_passes_a_conforming_change(name: str, policy_context: PolicyContext) -> None:
    assert run_builtin(name, policy_context) == []


@pytest.mark.parametrize(("name", "policy_context", "expected"), FAILING, ids=[name for name, _, _ in FAILING])
def test_builtin_rule_reports_every_finding_of_a_breaking_change(
    name: str, policy_context: PolicyContext, expected: list[Finding]
) -> None:
    assert run_builtin(name, policy_context) == expected


def test_every_builtin_rule_has_a_passing_and_a_failing_example() -> None:
    assert {name for name, _ in PASSING} == set(BUILTIN_DEFINITIONS)
    assert {name for name, _, _ in FAILING} == set(BUILTIN_DEFINITIONS)


def test_builtin_rules_ignore_a_context_without_the_part_they_check() -> None:
    bare = PolicyContext(scope=Scope.TOPIC_CONFIG, requester=Requester("root", "platform"), key_schema=None)
    reported = {name for name in BUILTIN_DEFINITIONS if run_builtin(name, bare)}
    assert reported == {"key-schema-required"}
