"""The typed context a rule sees: the contract between the hub and rule authors.

The hub fills a `PolicyContext` for each change it checks; built-in checks read it directly and CEL
expressions read its protobuf mirror (see `cel_context`), under the variable names given below.
A part that does not exist for a scope (no schema in a topic config change, for example) is `None`;
CEL rules that read such a part fail with an evaluation error, so list only the scopes they need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Scope(StrEnum):
    """Where a rule applies; the YAML `applies_to` list uses these values."""

    SCHEMA_VERSION = "schema_version"
    STREAM_REGISTRATION = "stream_registration"
    ACCESS_REQUEST = "access_request"
    TOPIC_CONFIG = "topic_config"


@dataclass(frozen=True)
class Requester:
    """The identity asking for the change (CEL variable `requester`).

    identity: the authenticated identity name, from its certificate.
    domain: the domain the identity belongs to.
    is_admin: whether the identity may act on every domain.
    """

    identity: str
    domain: str
    is_admin: bool = False


@dataclass(frozen=True)
class StreamSpec:
    """A stream as registered or requested (CEL variables `stream` and `registered_stream`).

    name: the full stream name, expected as `<domain>.<entity>`.
    domain, entity: the two parts of the name as the hub parsed them.
    description: what the stream holds.
    owner_team, contact: who owns the stream and how to reach them.
    partitions: the topic's partition count.
    tags: free labels such as `public` or `source`.
    is_source: whether the stream is a source of truth (its history is the only copy).
    topic_config: Kafka topic configuration, e.g. `{"cleanup.policy": "compact"}`; absent keys use Kafka defaults.
    compatibility: the subject compatibility level, e.g. `FULL_TRANSITIVE`.
    """

    name: str
    domain: str
    entity: str
    description: str = ""
    owner_team: str = ""
    contact: str = ""
    partitions: int = 1
    tags: tuple[str, ...] = ()
    is_source: bool = False
    topic_config: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    compatibility: str = "BACKWARD"


@dataclass(frozen=True)
class SchemaField:
    """One field of a schema, flattened from the tree (CEL type `headwater.policy.SchemaField`).

    path: dotted path from the root record, e.g. `amount.units`.
    name: the field's own name, e.g. `units`.
    type: the Avro type name (`string`, `long`, `record`, `array`, ...; for unions the non-null branch).
    doc: the field's `doc`, empty when missing.
    tags: labels from the field's `tags` property, e.g. `pii`.
    has_default: whether the field declares a default.
    nullable: whether the field's type is a union with `null`.
    """

    path: str
    name: str
    type: str
    doc: str = ""
    tags: tuple[str, ...] = ()
    has_default: bool = False
    nullable: bool = False


@dataclass(frozen=True)
class SchemaTree:
    """A schema as a typed tree of fields (CEL variables `schema`, `previous_schema`, `key_schema`).

    subject: the registry subject, e.g. `payments.order-value`.
    role: `key` or `value`.
    root_type: the Avro type of the root, e.g. `record`, `string` or `null`.
    fields: every field of every nested record, parents before children.
    """

    subject: str
    role: str
    root_type: str
    fields: tuple[SchemaField, ...] = ()


@dataclass(frozen=True)
class PolicyContext:
    """Everything a rule may look at for one change.

    scope: what kind of change is checked.
    requester: who asks for it.
    stream: the stream as it would be after the change; `None` for a schema version of a subject that
        belongs to no catalog stream (rules about streams then have nothing to check).
    schema: the schema version being registered, or the stream's current value schema.
    previous_schema: the latest registered version of the same subject, if any.
    key_schema: the stream's key schema, if known.
    registered_stream: the stream as currently registered, for immutability checks.
    key_schema_changed: whether the change replaces an already registered key schema.
    grant_purpose: the stated purpose of an access request.
    """

    scope: Scope
    requester: Requester
    stream: StreamSpec | None = None
    schema: SchemaTree | None = None
    previous_schema: SchemaTree | None = None
    key_schema: SchemaTree | None = None
    registered_stream: StreamSpec | None = None
    key_schema_changed: bool = False
    grant_purpose: str | None = None
