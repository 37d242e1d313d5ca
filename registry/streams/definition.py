"""The definition of a stream as a domain team writes it (`spec.yaml`, `POST /api/v1/streams` body).

The hub applies its own topic settings first (`DEFAULT_TOPIC_CONFIG`: compacted, history kept
forever, tombstones kept for the consumer rebuild window); a definition's `topic_config` overrides
them, and the policies judge the result."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from headwater.policies import StreamSpec
from headwater.policies.data_contract import DataRule
from headwater.registry.bounds import at_most

DEFAULT_TOPIC_CONFIG: Final[Mapping[str, str]] = MappingProxyType(
    {"cleanup.policy": "compact", "retention.ms": "-1", "delete.retention.ms": str(7 * 24 * 3600 * 1000)}
)


MAX_PARTITIONS: Final = 2**31 - 1
"""Kafka's own bound (an int32); the `partitions-within-bounds` policy sets the one in force."""

MAX_DATA_RULES: Final = 100

Tag = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
"""A tag: 1-63 of a-z, 0-9, '_' and '-'."""


class DataRuleSpec(BaseModel):
    """A data-contract rule: a CEL condition over `record` (the value) every record must meet."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="1-63 of a-z, 0-9, '_' and '-', e.g. `amount-not-negative`.")
    expression: str = Field(description="CEL returning bool, e.g. `record.amount_minor >= 0`.")
    message: str = Field(default="", description="What the rule means, shown with each violation.")

    def rule(self) -> DataRule:
        return DataRule(self.name, self.expression, self.message)


class StreamDefinition(BaseModel):
    """A stream to register: its name, owners, topic layout and key and value schemas (Avro JSON text)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="`<domain>.<entity>`, also the topic name, e.g. `payments.order`.")
    description: str = Field(default="", description="What the stream holds, one line.")
    owner_team: str = Field(default="", max_length=255, description="The team that owns the stream.")
    contact: str = Field(
        default="", max_length=255, description="How to reach the owners, e.g. an e-mail or chat channel."
    )
    owner: str | None = Field(
        default=None,
        max_length=63,
        description="The identity that publishes the stream (certificate CN); default: the caller. "
        "Created with a certificate when it does not exist.",
    )
    partitions: int = Field(default=1, ge=1, le=MAX_PARTITIONS, description="Partition count; fixed once registered.")
    tags: list[Tag] = Field(default_factory=list, max_length=64, description="Labels such as `public`.")
    source: bool = Field(
        default=True, description="A source of truth: its compacted history is the only copy of the entities."
    )
    compatibility: str = Field(default="FULL_TRANSITIVE", description="Compatibility level of both subjects.")
    topic_config: Annotated[dict[str, str], at_most(100)] = Field(
        default_factory=dict, description="Kafka topic settings that override the hub's defaults."
    )
    key_schema: str = Field(description="Avro schema of the key, as JSON text; frozen once registered.")
    value_schema: str = Field(description="Avro schema of the value, as JSON text.")
    data_rules: list[DataRuleSpec] = Field(
        default_factory=list,
        max_length=MAX_DATA_RULES,
        description="Conditions every record's value must meet, checked by the producer SDK.",
    )

    @property
    def key_subject(self) -> str:
        return f"{self.name}-key"

    @property
    def value_subject(self) -> str:
        return f"{self.name}-value"

    def effective_topic_config(self) -> dict[str, str]:
        return {**DEFAULT_TOPIC_CONFIG, **self.topic_config}

    def policy_view(self) -> StreamSpec:
        """The stream as policy rules see it; a name without a dot has an empty domain."""
        domain, _, entity = self.name.partition(".") if "." in self.name else ("", "", self.name)
        return StreamSpec(
            name=self.name,
            domain=domain,
            entity=entity,
            description=self.description,
            owner_team=self.owner_team,
            contact=self.contact,
            partitions=self.partitions,
            tags=tuple(self.tags),
            is_source=self.source,
            topic_config=MappingProxyType(self.effective_topic_config()),
            compatibility=self.compatibility.upper(),
        )
