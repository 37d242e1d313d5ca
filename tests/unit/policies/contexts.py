"""Contexts that satisfy every default rule, to be changed one field at a time in tests."""

from dataclasses import replace
from types import MappingProxyType

from headwater.policies import PolicyContext, Requester, SchemaField, SchemaTree, Scope, StreamSpec

REQUESTER = Requester(identity="payments-service", domain="payments")

STREAM = StreamSpec(
    name="payments.order-value",
    domain="payments",
    entity="order-value",
    description="Value of every order.",
    owner_team="payments-core",
    contact="payments-core@example.com",
    partitions=6,
    tags=("source",),
    is_source=True,
    topic_config=MappingProxyType(
        {"cleanup.policy": "compact", "retention.ms": "-1", "delete.retention.ms": "604800000"}
    ),
    compatibility="FULL_TRANSITIVE",
)

VALUE_SCHEMA = SchemaTree(
    subject="payments.order-value-value",
    role="value",
    root_type="record",
    fields=(
        SchemaField(path="order_id", name="order_id", type="string", doc="The order."),
        SchemaField(path="amount", name="amount", type="record", doc="The order's value."),
        SchemaField(path="amount.units", name="units", type="long", doc="Whole units."),
        SchemaField(path="email", name="email", type="string", doc="Buyer email.", tags=("pii",), nullable=True),
    ),
)

KEY_SCHEMA = SchemaTree(subject="payments.order-value-key", role="key", root_type="string")


def context(scope: Scope, **changes: object) -> PolicyContext:
    """A context for `scope` that passes every default rule, with `changes` applied."""
    base = PolicyContext(
        scope=scope,
        requester=REQUESTER,
        stream=STREAM,
        schema=VALUE_SCHEMA,
        previous_schema=VALUE_SCHEMA,
        key_schema=KEY_SCHEMA,
        registered_stream=STREAM,
        grant_purpose="fraud detection",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def stream(**changes: object) -> StreamSpec:
    return replace(STREAM, **changes)  # type: ignore[arg-type]


def topic_config(**changes: str) -> MappingProxyType[str, str]:
    """The good topic config with keys given as `delete_retention_ms` for `delete.retention.ms`."""
    return MappingProxyType({**STREAM.topic_config, **{key.replace("_", "."): value for key, value in changes.items()}})
