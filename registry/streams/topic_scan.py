"""Read one partition of a stream's topic, as the hub admin, and keep what certification compares:
the latest record of every key, and every record whose schema id the stream does not know.

A partition is read from a given offset up to a fixed end (its high watermark when the check began),
so records produced meanwhile do not keep the scan going; one partition at a time keeps memory to
that partition's keys."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Final

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from headwater.registry.streams.content_digest import value_hash

DELETED_BY_HEADER: Final = "headwater-deleted-by"
"""The producer SDK names the identity that wrote a tombstone; a tombstone without it was written
outside the owner's producer."""

ClientConfig = Callable[[], dict[str, object]]
"""The broker address and TLS settings of the hub admin identity, read when a client is created."""

_BATCH: Final = 10_000
_POLL_TIMEOUT_S: Final = 5.0
_STALL_LIMIT: Final = 12
"""Empty polls in a row (a minute) before a scan gives up on an unanswering broker."""


@dataclass(frozen=True)
class LatestRecord:
    offset: int
    value_hash: bytes | None
    """None for a tombstone."""
    deleted_by: str | None = None


@dataclass
class PartitionScan:
    partition: int
    start_offset: int
    end_offset: int
    latest: dict[bytes, LatestRecord] = field(default_factory=dict)
    records: int = 0
    unknown_schema_ids: Counter[int] = field(default_factory=Counter)
    not_wire_format: int = 0
    keyless: int = 0


class ScanError(Exception):
    pass


def scan_partition(
    client_config: ClientConfig, topic: str, partition: int, start: int, end: int, schema_ids: Collection[int]
) -> PartitionScan:
    """Every record of `partition` at offsets [start, end). Raises ScanError when the broker stops answering."""
    scan = PartitionScan(partition, start, end)
    if start >= end:
        return scan
    consumer = Consumer(
        {
            **client_config(),
            # No offsets are committed; a group id is still required by the client.
            "group.id": f"headwater-hub.scan.{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        consumer.assign([TopicPartition(topic, partition, start)])
        position, stalls = start, 0
        while position < end:
            messages = consumer.consume(_BATCH, timeout=_POLL_TIMEOUT_S)
            if not messages:
                stalls += 1
                if stalls >= _STALL_LIMIT:
                    raise ScanError(f"{topic}[{partition}] gave no records at offset {position} (end {end})")
                continue
            stalls = 0
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        continue
                    raise ScanError(f"reading {topic}[{partition}] failed: {error.str()}")
                offset = message.offset()
                position = offset + 1
                if offset >= end:
                    break
                _note(scan, message.key(), message.value(), offset, message.headers, schema_ids)
    except KafkaException as exception:
        raise ScanError(f"reading {topic}[{partition}] failed: {exception.args[0].str()}") from exception
    finally:
        consumer.close()
    return scan


def _note(
    scan: PartitionScan,
    key: bytes | None,
    value: bytes | None,
    offset: int,
    headers: Callable[[], list[tuple[str, bytes]] | None],
    schema_ids: Collection[int],
) -> None:
    scan.records += 1
    if key is None:
        scan.keyless += 1
        return
    for part in (key, value):
        if part is None:
            continue
        if len(part) < 5 or part[0] != 0:
            scan.not_wire_format += 1
            continue
        schema_id = int.from_bytes(part[1:5])
        if schema_id not in schema_ids:
            scan.unknown_schema_ids[schema_id] += 1
    if value is None:
        writer = dict(headers() or []).get(DELETED_BY_HEADER)
        scan.latest[key] = LatestRecord(offset, None, writer.decode() if writer is not None else None)
    else:
        scan.latest[key] = LatestRecord(offset, value_hash(value))
