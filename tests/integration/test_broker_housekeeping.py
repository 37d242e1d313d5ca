"""The local broker compacts and enforces retention within seconds when a topic asks for it, so later
tests (drift audits, tombstones, delete_records) need not wait the production defaults of minutes."""

import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import NewTopic

from headwater.registry.kafka_topics import create_stream_topic
from tests.conftest import RunningBroker

FAST_CLEANING = {"segment.ms": "200", "min.cleanable.dirty.ratio": "0.01", "min.compaction.lag.ms": "0"}


def _produce(broker: RunningBroker, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = Producer(broker.admin_connection.client_config(**{"linger.ms": 0}))
    errors: list[KafkaError] = []
    for key, value in records:
        producer.produce(topic, key=key, value=value, on_delivery=lambda e, _m: errors.append(e) if e else None)
        producer.flush(10)
        time.sleep(0.01)
    assert producer.flush(10) == 0 and not errors


def _replay(broker: RunningBroker, topic: str) -> list[tuple[bytes, bytes]]:
    consumer = Consumer(
        broker.admin_connection.client_config(
            **{"group.id": "housekeeping", "enable.auto.commit": False, "enable.partition.eof": True}
        )
    )
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    records: list[tuple[bytes, bytes]] = []
    try:
        while True:
            message = consumer.poll(5.0)
            assert message is not None, "no end-of-partition event within 5 s"
            if message.error() and message.error().code() == KafkaError._PARTITION_EOF:
                return records
            assert not message.error(), message.error()
            records.append((message.key(), message.value()))
    finally:
        consumer.close()


def test_compaction_keeps_only_the_latest_value_per_key_within_seconds(
    shared_broker: RunningBroker, unique_topic
) -> None:
    topic = unique_topic("compacted")
    create_stream_topic(shared_broker.admin(), topic, partitions=1, config=FAST_CLEANING)
    updates = [(f"k{index % 5}".encode(), f"v{index}".encode()) for index in range(100)]
    _produce(shared_broker, topic, updates)

    deadline = time.monotonic() + 60
    while True:
        # The active segment is never cleaned: a later record rolls it once segment.ms has passed.
        time.sleep(0.5)
        _produce(shared_broker, topic, [(b"roll", b"x")])
        history = _replay(shared_broker, topic)
        if len([record for record in history if record[0] != b"roll"]) == 5:
            break
        assert time.monotonic() < deadline, f"not compacted within 60 s: {len(history)} records remain"
    latest = {key: value for key, value in history if key != b"roll"}
    assert latest == {f"k{index}".encode(): f"v{95 + index}".encode() for index in range(5)}


def test_retention_moves_the_earliest_offset_within_seconds(shared_broker: RunningBroker, unique_topic) -> None:
    topic = unique_topic("retained")
    admin = shared_broker.admin()
    config = {"cleanup.policy": "delete", "retention.ms": "1000", "segment.ms": "200"}
    for future in admin.create_topics([NewTopic(topic, 1, 1, config=config)]).values():
        future.result()
    _produce(shared_broker, topic, [(b"a", b"1"), (b"b", b"2")])

    consumer = Consumer(shared_broker.admin_connection.client_config(**{"group.id": "retention"}))
    deadline = time.monotonic() + 60
    try:
        while True:
            time.sleep(0.5)
            _produce(shared_broker, topic, [(b"roll", b"x")])
            earliest, _latest = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10, cached=False)
            if earliest > 0:
                break
            assert time.monotonic() < deadline, "retention did not delete a segment within 60 s"
    finally:
        consumer.close()
