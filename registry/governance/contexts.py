"""Build the typed `PolicyContext` of each change the hub checks."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from headwater.policies import PolicyContext, Requester, Scope, StreamSpec
from headwater.registry.governance.schema_tree import schema_tree
from headwater.registry.models import Stream
from headwater.registry.schemas import AvroSchema
from headwater.registry.streams.definition import StreamDefinition

DATABASE_OPERATOR: Final = Requester(identity="database-operator", domain="platform", is_admin=True)
"""Who acts when a command writes the hub database directly (e.g. `headwater registry import`): whoever
can open the database is the platform, and the audit log names them so."""


def schema_version_context(
    requester: Requester, subject: str, schema: AvroSchema, previous: AvroSchema | None
) -> PolicyContext:
    """A new version of `subject`. The subject belongs to no catalog stream yet (the catalog binds
    `<stream>-key`/`-value` subjects to their streams), so rules about streams find nothing to check."""
    return PolicyContext(
        scope=Scope.SCHEMA_VERSION,
        requester=requester,
        schema=schema_tree(subject, schema),
        previous_schema=schema_tree(subject, previous) if previous is not None else None,
    )


def stream_registration_contexts(
    requester: Requester, definition: StreamDefinition, key: AvroSchema, value: AvroSchema
) -> list[PolicyContext]:
    """A new stream: the registration itself, then the first version of its key and of its value subject."""
    stream = definition.policy_view()
    key_tree = schema_tree(definition.key_subject, key)
    value_tree = schema_tree(definition.value_subject, value)
    registration = PolicyContext(
        scope=Scope.STREAM_REGISTRATION, requester=requester, stream=stream, schema=value_tree, key_schema=key_tree
    )
    return [
        registration,
        PolicyContext(
            scope=Scope.SCHEMA_VERSION, requester=requester, stream=stream, schema=key_tree, key_schema=key_tree
        ),
        PolicyContext(
            scope=Scope.SCHEMA_VERSION, requester=requester, stream=stream, schema=value_tree, key_schema=key_tree
        ),
    ]


def stream_policy_view(row: Stream) -> StreamSpec:
    """A catalog stream as policy rules see it."""
    return StreamSpec(
        name=row.name,
        domain=row.domain,
        entity=row.entity,
        description=row.description,
        owner_team=row.owner_team,
        contact=row.contact,
        partitions=row.partitions,
        tags=tuple(row.tags),
        is_source=row.is_source,
        topic_config=MappingProxyType(dict(row.topic_config)),
        compatibility=row.compatibility,
    )


def stream_schema_version_context(
    requester: Requester,
    stream: Stream,
    subject: str,
    schema: AvroSchema,
    previous: AvroSchema | None,
    key: AvroSchema | None,
) -> PolicyContext:
    """A new version of a catalog stream's key or value subject. `key` is the stream's registered key
    schema; for the key subject, a new version while one exists is a key schema change."""
    view = stream_policy_view(stream)
    is_key = subject == stream.key_subject
    key_tree = schema_tree(stream.key_subject, schema if is_key else key) if (is_key or key is not None) else None
    return PolicyContext(
        scope=Scope.SCHEMA_VERSION,
        requester=requester,
        stream=view,
        registered_stream=view,
        schema=schema_tree(subject, schema),
        previous_schema=schema_tree(subject, previous) if previous is not None else None,
        key_schema=key_tree,
        key_schema_changed=is_key and previous is not None,
    )
