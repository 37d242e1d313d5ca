"""Backfill: publish the full current state of a domain's entities into its stream, resumably, and
register a manifest of exactly what was published.

    report = Backfill(stream, hub, kafka, source, work_dir).run()

Every record is acknowledged by the broker before it counts: each acknowledgement adds an entry (key,
value hash, partition, offset) to `<work_dir>/entries.bin` and to the running digests. Every few
seconds the producer is flushed and a checkpoint written (`checkpoint.json`: source position, counts,
digests, how far the entries file is valid), atomically. An interrupted run (killed, broker gone,
source failing) is resumed by running it again: it truncates the entries to the checkpoint and reads
the source from the checkpoint's position. Records sent after the checkpoint are sent again, which
compaction makes harmless; the report counts them. A key the source gives twice is refused (keys
are remembered as 64-bit hashes: one false alarm in about 10^10 backfills of a million keys).

At the end `--reconcile` asks the hub for live keys the source no longer has (last written before the
backfill began) and tombstones them; then the manifest goes to the hub, and the work folder is
removed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from headwater.producers.backfill_sources import BackfillSource, Position
from headwater.producers.connection import HubConnection, MtlsConnection
from headwater.producers.errors import CheckpointMismatchError, DuplicateKeyError, SourceError
from headwater.producers.hub import open_hub
from headwater.producers.stream_producer import ProducerTuning, StreamProducer
from headwater.registry.streams.content_digest import (
    ContentDigest,
    Entry,
    MalformedEntriesError,
    decode_entries,
    encode_entry,
    value_hash,
)

CHECKPOINT_FILE: Final = "checkpoint.json"
ENTRIES_FILE: Final = "entries.bin"
SENT_FILE: Final = "sent"
"""How many records the current run had queued, written every second: a resumed run counts the
records it sends again from it."""
_CHECKPOINT_EVERY_S: Final = 5.0
_SENT_EVERY_S: Final = 1.0
_HUB_SCAN_TIMEOUT_S: Final = 900.0


@dataclass
class Checkpoint:
    stream: str
    source: str
    run_id: str
    start_offsets: dict[int, int]
    """Each partition's end offset when the first run began."""
    position: Position | None = None
    sent: int = 0
    """Records acknowledged up to `position` (the source records read, in every run)."""
    resent: int = 0
    keys: int = 0
    key_digest: str = "0" * 32
    entry_digest: str = "0" * 32
    entries_bytes: int = 0
    last_offsets: dict[int, int] = field(default_factory=dict)
    schema_ids: list[int] = field(default_factory=list)
    runs: int = 1

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        data = json.loads(path.read_text())
        for name in ("start_offsets", "last_offsets"):
            data[name] = {int(partition): offset for partition, offset in data[name].items()}
        return cls(**data)

    def save(self, path: Path) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self)))
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        temporary.replace(path)


@dataclass(frozen=True)
class BackfillProgress:
    sent: int
    """Source records sent so far (in every run)."""
    total: int | None
    resumed_from: int


@dataclass(frozen=True)
class BackfillReport:
    stream: str
    source: str
    records: int
    keys: int
    resent: int
    tombstones: int
    runs: int
    manifest_id: int
    seconds: float


class Backfill:
    def __init__(
        self,
        stream: str,
        hub: HubConnection,
        kafka: MtlsConnection,
        source: BackfillSource,
        work_dir: Path,
        reconcile: bool = False,
        tuning: ProducerTuning | None = None,
        progress: Callable[[BackfillProgress], None] = lambda _: None,
        checkpoint_every_s: float = _CHECKPOINT_EVERY_S,
    ) -> None:
        self._stream, self._hub, self._kafka, self._source = stream, hub, kafka, source
        self._dir, self._reconcile, self._tuning = work_dir, reconcile, tuning
        self._progress, self._checkpoint_every_s = progress, checkpoint_every_s

    @property
    def checkpoint_file(self) -> Path:
        return self._dir / CHECKPOINT_FILE

    def run(self) -> BackfillReport:
        started = time.monotonic()
        self._dir.mkdir(parents=True, exist_ok=True)
        checkpoint = self._resume_or_begin()
        digest = ContentDigest.restore(checkpoint.keys, checkpoint.key_digest, checkpoint.entry_digest)
        seen = self._keys_acknowledged(checkpoint)
        acknowledged = _Acknowledgements(self._dir / ENTRIES_FILE, checkpoint, digest)
        producer = StreamProducer.open(self._stream, self._hub, self._kafka, self._tuning, acknowledged.add)
        schemas = producer.schemas
        checkpoint.schema_ids = sorted({*checkpoint.schema_ids, schemas.key.schema_id, schemas.value.schema_id})
        total = self._source.count()
        resumed_from = checkpoint.sent
        sent, position = checkpoint.sent, checkpoint.position
        self._progress(BackfillProgress(sent, total, resumed_from))
        next_checkpoint = time.monotonic() + self._checkpoint_every_s
        next_sent_note = time.monotonic() + _SENT_EVERY_S
        try:
            for record in self._source.records(checkpoint.position):
                key, value = producer.encode(record.key, record.value)  # the stream's data rules hold here too
                short = _short_hash(key)
                if short in seen:
                    raise DuplicateKeyError(self._stream, record.key, record.position)
                seen.add(short)
                producer.send_encoded(key, value)
                sent, position = sent + 1, record.position
                now = time.monotonic()
                if now >= next_sent_note:
                    (self._dir / SENT_FILE).write_text(str(sent))
                    self._progress(BackfillProgress(sent, total, resumed_from))
                    next_sent_note = now + _SENT_EVERY_S
                if now >= next_checkpoint:
                    self._checkpoint(producer, acknowledged, checkpoint, sent, position)
                    next_checkpoint = time.monotonic() + self._checkpoint_every_s
            self._checkpoint(producer, acknowledged, checkpoint, sent, position)
            self._progress(BackfillProgress(sent, total, resumed_from))
            # Complete now: reconciling tombstones are not entries, so one payload serves both requests.
            entries = base64.b64encode(zlib.compress((self._dir / ENTRIES_FILE).read_bytes(), 1)).decode()
            tombstones = self._tombstone_stale_keys(producer, checkpoint, entries) if self._reconcile else 0
        finally:
            acknowledged.close()
        manifest = self._register_manifest(checkpoint, tombstones, entries)
        for name in (CHECKPOINT_FILE, ENTRIES_FILE, SENT_FILE):
            (self._dir / name).unlink(missing_ok=True)
        return BackfillReport(
            self._stream,
            self._source.description,
            checkpoint.sent,
            checkpoint.keys,
            checkpoint.resent,
            tombstones,
            checkpoint.runs,
            int(manifest["id"]),
            time.monotonic() - started,
        )

    def _resume_or_begin(self) -> Checkpoint:
        if self.checkpoint_file.exists():
            checkpoint = Checkpoint.load(self.checkpoint_file)
            if (checkpoint.stream, checkpoint.source) != (self._stream, self._source.description):
                raise CheckpointMismatchError(
                    self._dir,
                    f"{checkpoint.stream} from {checkpoint.source}",
                    f"{self._stream} from {self._source.description}",
                )
            # What the interrupted run sent after its last checkpoint is sent again: at least the
            # records acknowledged since (their entries follow the checkpointed ones), at least what
            # its last progress note counted.
            sent_file = self._dir / SENT_FILE
            queued_before = int(sent_file.read_text()) if sent_file.exists() else checkpoint.sent
            acknowledged_after = _complete_entries(self._dir / ENTRIES_FILE, checkpoint.entries_bytes)
            checkpoint.resent += max(queued_before - checkpoint.sent, acknowledged_after, 0)
            checkpoint.runs += 1
            checkpoint.save(self.checkpoint_file)
            return checkpoint
        for name in (ENTRIES_FILE, SENT_FILE):
            (self._dir / name).unlink(missing_ok=True)
        checkpoint = Checkpoint(self._stream, self._source.description, uuid.uuid4().hex, self._end_offsets())
        checkpoint.save(self.checkpoint_file)
        return checkpoint

    def _keys_acknowledged(self, checkpoint: Checkpoint) -> set[int]:
        """The keys already published, from the entries up to the checkpoint (what follows is dropped)."""
        entries = self._dir / ENTRIES_FILE
        if not entries.exists():
            return set()
        with open(entries, "r+b") as file:
            file.truncate(checkpoint.entries_bytes)
            data = file.read()
        return {_short_hash(entry.key) for entry in decode_entries(data)}

    def _end_offsets(self) -> dict[int, int]:
        """The partitions' end offsets now (DESCRIBE on the topic is enough; no group is joined)."""
        consumer = Consumer(self._kafka.client_config(**{"group.id": f"headwater-backfill.{uuid.uuid4().hex}"}))
        try:
            metadata = consumer.list_topics(self._stream, timeout=30).topics[self._stream]
            return {
                partition: consumer.get_watermark_offsets(TopicPartition(self._stream, partition), timeout=30)[1]
                for partition in sorted(metadata.partitions)
            }
        except KafkaException as error:
            raise SourceError(f"Reading the end offsets of '{self._stream}' failed: {error.args[0].str()}") from error
        finally:
            consumer.close()

    def _checkpoint(
        self,
        producer: StreamProducer,
        acknowledged: _Acknowledgements,
        checkpoint: Checkpoint,
        sent: int,
        position: Position | None,
    ) -> None:
        producer.flush()  # every record up to `position` acknowledged, or DeliveryFailedError
        checkpoint.position, checkpoint.sent = position, sent
        acknowledged.sync(checkpoint)
        checkpoint.save(self.checkpoint_file)

    def _tombstone_stale_keys(self, producer: StreamProducer, checkpoint: Checkpoint, entries: str) -> int:
        with open_hub(self._hub, timeout_s=_HUB_SCAN_TIMEOUT_S) as hub:
            answer = hub.post(
                f"/streams/{self._stream}/stale-keys",
                {"entries": entries, "start_offsets": checkpoint.start_offsets},
            )
        for encoded in answer["keys"]:
            producer.delete_encoded(base64.b64decode(encoded))
        producer.flush()
        return len(answer["keys"])

    def _register_manifest(self, checkpoint: Checkpoint, tombstones: int, entries: str) -> dict[str, Any]:
        partitions = [
            {"partition": partition, "start_offset": start, "last_offset": checkpoint.last_offsets.get(partition, -1)}
            for partition, start in sorted(checkpoint.start_offsets.items())
        ]
        body = {
            "source": checkpoint.source,
            "keys": checkpoint.keys,
            "key_digest": checkpoint.key_digest,
            "entry_digest": checkpoint.entry_digest,
            "partitions": partitions,
            "schema_ids": checkpoint.schema_ids,
            "details": {
                "records": checkpoint.sent,
                "resent": checkpoint.resent,
                "tombstones": tombstones,
                "runs": checkpoint.runs,
                "run_id": checkpoint.run_id,
            },
            "entries": entries,
        }
        with open_hub(self._hub, timeout_s=_HUB_SCAN_TIMEOUT_S) as hub:
            manifest: dict[str, Any] = hub.post(f"/streams/{self._stream}/manifests", body)
        return manifest


class _Acknowledgements:
    """Entries of acknowledged records, appended as the broker acknowledges them."""

    def __init__(self, path: Path, checkpoint: Checkpoint, digest: ContentDigest) -> None:
        self._file = open(path, "ab")  # noqa: SIM115 - closed by close(), after the last flush
        self._digest = digest
        self._last_offsets = dict(checkpoint.last_offsets)

    def add(self, message: Message) -> None:
        value = message.value()
        if value is None:
            return  # a reconciling tombstone: not an entry
        key, partition, offset = message.key(), message.partition(), message.offset()
        digest = value_hash(value)
        self._file.write(encode_entry(Entry(key, digest, partition, offset)))
        self._digest.add(key, digest)
        if offset > self._last_offsets.get(partition, -1):
            self._last_offsets[partition] = offset

    def sync(self, checkpoint: Checkpoint) -> None:
        """Make the entries durable and record them in `checkpoint` (saved by the caller)."""
        self._file.flush()
        os.fsync(self._file.fileno())
        checkpoint.entries_bytes = self._file.tell()
        checkpoint.keys = self._digest.keys
        checkpoint.key_digest, checkpoint.entry_digest = self._digest.key_digest, self._digest.entry_digest
        checkpoint.last_offsets = dict(self._last_offsets)

    def close(self) -> None:
        self._file.close()


def _complete_entries(path: Path, after: int) -> int:
    """How many whole entries `path` holds past byte `after` (the last may have been cut off)."""
    if not path.exists():
        return 0
    with open(path, "rb") as file:
        file.seek(after)
        tail = file.read()
    count = 0
    try:
        for _ in decode_entries(tail):
            count += 1
    except MalformedEntriesError:
        pass
    return count


def _short_hash(key: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest())
