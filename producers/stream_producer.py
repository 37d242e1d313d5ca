"""Publish a catalog stream's records: keyed, Avro in the Confluent wire format, idempotent, partitioned
exactly as the Java client partitions keyed records.

    with StreamProducer.open("payments.order", hub, kafka) as orders:
        orders.send({"order_id": "o-1"}, {"order_id": "o-1", ...})
        orders.delete({"order_id": "o-0"})          # a tombstone: compaction forgets the key
    # leaving the block flushes: every record acknowledged by the broker, or DeliveryFailedError

The schemas come from the hub: the stream's key schema (frozen, so a key always encodes to the same
bytes and lands in the same partition) and the latest version of its value schema.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, NoReturn, Self

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from headwater.policies.data_contract import DataContract, DataRule, DataRuleError, DataRuleViolation
from headwater.producers.avro_records import RecordCodec
from headwater.producers.connection import HubConnection, MtlsConnection
from headwater.producers.errors import (
    DataRuleViolationError,
    DeliveryFailedError,
    FlushTimeoutError,
    IdentityFilesDifferError,
    KeyRequiredError,
    StreamNotWritableError,
    StreamRulesUnusableError,
)
from headwater.producers.hub import HubClient, open_hub
from headwater.producers.renewal import CertificateRenewal, certificate_identity, certificate_serial
from headwater.registry.streams.topic_scan import DELETED_BY_HEADER

logger = logging.getLogger(__name__)

_UNWRITABLE_STATES: Final = ("PENDING", "DELETED")
DEAD_LETTER_SOURCE_HEADER: Final = "headwater-source-stream"
DEAD_LETTER_RULE_HEADER: Final = "headwater-broken-rule"
"""One header per rule a dead-lettered record broke, saying which values broke it."""
_QUEUE_FULL_WAIT_S: Final = 0.05
SERVE_REPORTS_EVERY: Final = 1000
"""Delivery reports are served once per this many records (and whenever the queue is full)."""


@dataclass(frozen=True)
class ProducerTuning:
    """Batching and compression; the defaults reach the throughput benchmarks/backfill.py measures."""

    linger_ms: int = 20
    batch_bytes: int = 1_000_000
    compression: str = "lz4"
    queue_max_records: int = 500_000


@dataclass(frozen=True)
class StreamSchemas:
    """What the hub says about a stream when a producer opens it."""

    stream: str
    partitions: int
    key: RecordCodec
    value: RecordCodec
    contract: DataContract
    """The stream's data-contract rules, compiled once."""


def fetch_stream_schemas(hub: HubClient, stream: str) -> StreamSchemas:
    detail = hub.get(f"/streams/{stream}")
    summary = detail["summary"]
    state = summary["state"]
    if state in _UNWRITABLE_STATES:
        raise StreamNotWritableError(stream, state)
    if state == "DEPRECATED":
        # Still writable until its sunset, so that publishers move on their own schedule; but told.
        logger.warning(
            "'%s' is DEPRECATED and will be deleted after %s: %s",
            stream,
            summary["sunset_at"],
            summary["deprecation_message"],
        )
    codecs = {}
    for role in ("key", "value"):
        latest = hub.get_registry(f"/subjects/{detail[f'{role}_subject']}/versions/latest")
        codecs[role] = RecordCodec(stream, role, latest["id"], latest["schema"])
    rules = [DataRule(**rule) for rule in detail.get("data_rules", [])]
    contract = compile_data_rules(stream, rules, codecs["value"])
    return StreamSchemas(stream, summary["partitions"], codecs["key"], codecs["value"], contract)


def compile_data_rules(stream: str, rules: list[DataRule], value: RecordCodec) -> DataContract:
    """The stream's rules against its value schema; StreamRulesUnusableError when they do not fit it
    (the hub refuses such rules and schema versions, but a version imported from another hub skips
    its checks)."""
    try:
        return DataContract(rules, value.field_names, value.definition)
    except DataRuleError as error:
        raise StreamRulesUnusableError(stream, error.problems) from None


def producer_config(kafka: MtlsConnection, tuning: ProducerTuning, **extra: object) -> dict[str, object]:
    return kafka.client_config(
        **{
            # Every record is acknowledged by all in-sync replicas, once, in order per partition.
            "acks": "all",
            "enable.idempotence": True,
            # murmur2 of the key bytes, positive, modulo the partition count: the Java client's default
            # for keyed records, so Java and Python producers agree on a key's partition.
            "partitioner": "murmur2_random",
            "linger.ms": tuning.linger_ms,
            "batch.size": tuning.batch_bytes,
            "compression.type": tuning.compression,
            "queue.buffering.max.messages": tuning.queue_max_records,
            **extra,
        }
    )


class StreamProducer:
    def __init__(
        self,
        schemas: StreamSchemas,
        kafka: MtlsConnection,
        tuning: ProducerTuning | None = None,
        renewal: CertificateRenewal | None = None,
        on_acknowledged: Callable[[Message], None] | None = None,
        dead_letters: StreamSchemas | None = None,
    ) -> None:
        """`dead_letters`, when given, is a stream the same identity owns: a record breaking a data
        rule goes there (encoded with its schemas, the rules it broke in headers) instead of raising.
        `on_acknowledged`, when given, is called with every record the broker acknowledged (its
        partition and offset set), from `flush` or the producer's own polls; it costs a Python call
        per record, so only the backfill asks for it."""
        self.schemas = schemas
        self._has_rules = bool(schemas.contract.rules)
        self._topic = schemas.stream
        self._encode_key, self._encode_value = schemas.key.encode, schemas.value.encode
        self._kafka, self._tuning, self._renewal = kafka, tuning or ProducerTuning(), renewal
        self._on_acknowledged = on_acknowledged
        self._dead_letters = dead_letters
        self.dead_lettered = 0
        """Records sent to the dead-letter stream."""
        # Tombstones name their writer: the hub's drift audit tells the owner's deletes from others'.
        self._deleted_by = [(DELETED_BY_HEADER, certificate_identity(kafka.certificate_file).encode())]
        self._producer, self.certificate_serial = self._connect()
        self._failed = 0
        self._first_error: str | None = None
        self._unserved = 0

    @classmethod
    def open(
        cls,
        stream: str,
        hub: HubConnection,
        kafka: MtlsConnection,
        tuning: ProducerTuning | None = None,
        on_acknowledged: Callable[[Message], None] | None = None,
        dead_letter_stream: str | None = None,
    ) -> Self:
        """A producer of `stream` that renews its certificate (the files `hub` and `kafka` share) in time;
        records breaking the stream's data rules raise DataRuleViolationError, or go to
        `dead_letter_stream` when one is named."""
        if (hub.certificate_file, hub.key_file) != (kafka.certificate_file, kafka.key_file):
            raise IdentityFilesDifferError(hub.certificate_file, kafka.certificate_file)
        with open_hub(hub) as client:
            schemas = fetch_stream_schemas(client, stream)
            dead_letters = fetch_stream_schemas(client, dead_letter_stream) if dead_letter_stream else None
        return cls(schemas, kafka, tuning, CertificateRenewal(hub), on_acknowledged, dead_letters)

    @property
    def renewals(self) -> int:
        """How many times the certificate was renewed while producing."""
        return self._renewal.renewals if self._renewal is not None else 0

    @property
    def stream(self) -> str:
        return self.schemas.stream

    def send(self, key: object, value: Mapping[str, Any]) -> None:
        """Queue one record; raises what `encode` raises (nothing queued), except that a record breaking
        a data rule goes to the dead-letter stream when there is one."""
        # `encode` inlined: the hot path, where each Python call costs about 1% of the throughput.
        if self._has_rules:
            violations = self.schemas.contract.violations(value)
            if violations:
                if self._dead_letters is None:
                    raise DataRuleViolationError(self.stream, violations)
                self._dead_letter(key, value, violations)
                return
        if key is None:
            raise KeyRequiredError(self.stream)
        self._produce(self._encode_key(key), self._encode_value(value))

    def encode(self, key: object, value: Mapping[str, Any]) -> tuple[bytes, bytes]:
        """The record in the wire format, checked: KeyRequiredError without a key, RecordRejectedError
        if either part misfits its schema, DataRuleViolationError if the value breaks a data rule."""
        violations = self.schemas.contract.violations(value)
        if violations:
            raise DataRuleViolationError(self.stream, violations)
        return self._key_bytes(key), self._encode_value(value)

    def send_encoded(self, key: bytes, value: bytes) -> None:
        """Queue a record `encode` returned."""
        self._produce(key, value)

    def delete(self, key: object) -> None:
        """Queue a tombstone: compaction removes the key after `delete.retention.ms`."""
        self.delete_encoded(self._key_bytes(key))

    def delete_encoded(self, key: bytes) -> None:
        """Queue a tombstone for a key already in the wire format (as read from the topic)."""
        self._produce(key, None, self._deleted_by)

    def flush(self, timeout_s: float = 60.0) -> None:
        """Wait until the broker acknowledged every queued record; raise if any was not delivered."""
        try:
            pending = self._producer.flush(timeout_s)
        except KafkaException as exception:
            self._replace_fatally_failed_client(exception)
        if pending:
            raise FlushTimeoutError(self.stream, pending, timeout_s)
        if self._failed:
            failed, first_error = self._failed, self._first_error or "unknown"
            self._failed, self._first_error = 0, None
            raise DeliveryFailedError(self.stream, failed, first_error)

    def close(self, timeout_s: float = 60.0) -> None:
        self.flush(timeout_s)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:
            # Deliver what was queued before the failure, without hiding the failure itself.
            self._producer.flush(10)

    def _key_bytes(self, key: object) -> bytes:
        if key is None:
            raise KeyRequiredError(self.stream)
        return self._encode_key(key)

    def _connect(self) -> tuple[Producer, int]:
        """A client of the identity's current certificate files, and that certificate's serial."""
        # Reports only for failures: a Python callback per acknowledged record cost about a third of
        # the throughput (benchmarks/backfill.py); success is what flush() confirms.
        only_errors = self._on_acknowledged is None
        config = producer_config(
            self._kafka, self._tuning, on_delivery=self._delivered, **{"delivery.report.only.error": only_errors}
        )
        # Read before the client is created: a renewal writes the files before it reconnects.
        serial = certificate_serial(self._kafka.certificate_file)
        return Producer(config), serial

    def _replace_fatally_failed_client(self, exception: KafkaException) -> NoReturn:
        """Report the records a fatal error took (an identity without WRITE gets no producer id, for
        one) and reconnect, so that this stream producer stays usable once the cause is fixed."""
        error: KafkaError = exception.args[0]
        if not error.fatal():
            raise exception
        self._producer.poll(0)  # serve the reports of the records librdkafka failed
        failed = self._failed + len(self._producer)
        self._failed, self._first_error = 0, None
        self._producer, self.certificate_serial = self._connect()
        raise DeliveryFailedError(self.stream, failed, f"{error.name()}: {error.str()}") from exception

    def _renew_certificate(self) -> None:
        assert self._renewal is not None
        if not self._renewal.renew():
            return
        # Every record queued under the old certificate is acknowledged (or failed) before the producer
        # that holds it goes: nothing is lost, and nothing is sent twice. A failed record does not keep
        # the old certificate in use: the flush that reports it left nothing pending.
        try:
            self.flush()
        except DeliveryFailedError:
            self._producer, self.certificate_serial = self._connect()
            raise
        self._producer, self.certificate_serial = self._connect()

    def _dead_letter(self, key: object, value: Mapping[str, Any], violations: list[DataRuleViolation]) -> None:
        assert self._dead_letters is not None
        dead = self._dead_letters
        headers = [
            (DEAD_LETTER_SOURCE_HEADER, self.stream.encode()),
            *((DEAD_LETTER_RULE_HEADER, str(violation).encode()) for violation in violations),
        ]
        self._produce(dead.key.encode(key), dead.value.encode(value), headers, dead.stream)
        self.dead_lettered += 1

    def _produce(
        self, key: bytes, value: bytes | None, headers: list[tuple[str, bytes]] | None = None, topic: str | None = None
    ) -> None:
        if self._renewal is not None and self._renewal.due():
            self._renew_certificate()
        while True:
            try:
                if headers is None:
                    self._producer.produce(topic or self._topic, value, key)
                else:
                    self._producer.produce(topic or self._topic, value, key, headers=headers)
            except BufferError:
                # The local queue is full: serve delivery reports until there is room again.
                self._producer.poll(_QUEUE_FULL_WAIT_S)
                continue
            break
        self._unserved += 1
        if self._unserved >= SERVE_REPORTS_EVERY:
            self._unserved = 0
            self._producer.poll(0)

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._failed += 1
            self._first_error = self._first_error or f"{error.name()}: {error.str()}"
        elif self._on_acknowledged is not None:
            self._on_acknowledged(message)
