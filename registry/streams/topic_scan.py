"""Read one partition of a stream's topic, as the hub admin, and keep what certification compares:
the latest record of every key, and every record whose schema id the stream does not know.

A partition is read from a given offset up to a fixed end (its high watermark when the check began),
so records produced meanwhile do not keep the scan going; one partition at a time keeps memory to
that partition's keys."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from headwater.registry.streams.content_digest import value_hash

DELETED_BY_HEADER: Final = "headwater-deleted-by"
"""The producer SDK names the identity that wrote a tombstone; a tombstone without it was written
outside the owner's producer."""

ClientConfig = Callable[[], dict[str, object]]
"""The broker address and TLS settings of the hub admin identity, read when a client is created."""

_BATCH: Final = 10_000
_POLL_TIMEOUT_S: Final = 0.2
"""A batch returns when full or after this: short, or the last batch of a partition waits it out."""
_STALL_LIMIT_S: Final = 60.0
"""How long a scan waits for the next record before it gives up on an unanswering broker."""


class LatestRecord(NamedTuple):
    """A named tuple, not a dataclass: a scan makes one per record, and a tuple is built 3x faster."""

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
        # The schema-id check compares 5-byte wire-format headers: a set lookup per key and value.
        known = {b"\0" + schema_id.to_bytes(4) for schema_id in schema_ids}
        position, last_record = start, time.monotonic()
        while position < end:
            messages = consumer.consume(_BATCH, timeout=_POLL_TIMEOUT_S)
            if not messages:
                if time.monotonic() - last_record > _STALL_LIMIT_S:
                    raise ScanError(f"{topic}[{partition}] gave no records at offset {position} (end {end})")
                continue
            last_record = time.monotonic()
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
                _note(scan, message, offset, known)
    except KafkaException as exception:
        raise ScanError(f"reading {topic}[{partition}] failed: {exception.args[0].str()}") from exception
    finally:
        consumer.close()
    return scan


def _note(scan: PartitionScan, message: Message, offset: int, known: set[bytes]) -> None:
    scan.records += 1
    key, value = message.key(), message.value()
    if key is None:
        scan.keyless += 1
        return
    if key[:5] not in known:
        _unknown_schema(scan, key)
    if value is None:
        writer = dict(message.headers() or []).get(DELETED_BY_HEADER)
        scan.latest[key] = LatestRecord(offset, None, writer.decode() if writer is not None else None)
        return
    if value[:5] not in known:
        _unknown_schema(scan, value)
    scan.latest[key] = LatestRecord(offset, value_hash(value))


def _unknown_schema(scan: PartitionScan, part: bytes) -> None:
    if len(part) < 5 or part[0] != 0:
        scan.not_wire_format += 1
    else:
        scan.unknown_schema_ids[int.from_bytes(part[1:5])] += 1
