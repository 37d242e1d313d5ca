"""What the broker says about a stream's topic right now: partitions, offsets, configuration, size."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, OffsetSpec, ResourceType

ESTIMATED_RECORD_BYTES = 1024
_TIMEOUT_S = 10.0

LogDirs = Callable[[], Sequence[Path]]
"""The broker's log folders when the hub can read them (the local stack), else none."""


@dataclass(frozen=True)
class PartitionOffsets:
    partition: int
    earliest: int
    latest: int


@dataclass(frozen=True)
class TopicFacts:
    partitions: list[PartitionOffsets]
    config: dict[str, str]
    size_bytes: int
    size_source: str
    """`log folders` when summed from the broker's files, else how it was estimated."""


def topic_facts(admin: AdminClient, topic: str, log_dirs: LogDirs) -> TopicFacts:
    """Raises KafkaException when the broker does not answer."""
    metadata = admin.list_topics(topic=topic, timeout=_TIMEOUT_S).topics[topic]
    if metadata.error is not None:
        raise KafkaException(metadata.error)
    numbers = sorted(metadata.partitions)
    offsets = [_offsets(admin, topic, numbers, spec) for spec in (OffsetSpec.earliest(), OffsetSpec.latest())]
    partitions = [PartitionOffsets(number, offsets[0][number], offsets[1][number]) for number in numbers]
    resource = ConfigResource(ResourceType.TOPIC, topic)
    entries = admin.describe_configs([resource], request_timeout=_TIMEOUT_S)[resource].result()
    config = {name: entry.value for name, entry in entries.items() if entry.value is not None}
    folders = [folder / f"{topic}-{number}" for folder in log_dirs() for number in numbers]
    existing = [folder for folder in folders if folder.is_dir()]
    if existing:
        size = sum(file.stat().st_size for folder in existing for file in folder.iterdir() if file.is_file())
        source = "log folders"
    else:
        size = sum(partition.latest - partition.earliest for partition in partitions) * ESTIMATED_RECORD_BYTES
        source = f"estimate: offsets x {ESTIMATED_RECORD_BYTES} bytes (the broker's log folders are not visible here)"
    return TopicFacts(partitions, config, size, source)


def _offsets(admin: AdminClient, topic: str, numbers: list[int], spec: OffsetSpec) -> dict[int, int]:
    request = {TopicPartition(topic, number): spec for number in numbers}
    futures = admin.list_offsets(request, request_timeout=_TIMEOUT_S)
    return {partition.partition: future.result().offset for partition, future in futures.items()}
