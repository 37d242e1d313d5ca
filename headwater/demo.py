"""The end-to-end demo on embedded defaults: a local broker, an identity, a stream topic it owns,
records produced and read back over mTLS, and a write the broker refuses."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from headwater.config import LocalSettings
from headwater.ledger import open_ledger
from headwater.local.errors import LocalStackError
from headwater.local.stack import LocalStack
from headwater.producers.connection import MtlsConnection
from headwater.registry.kafka_acls import consumer_bindings, consumer_group_prefix, create_acls, producer_bindings
from headwater.registry.kafka_topics import create_stream_topic

DEMO_IDENTITY = "demo-svc"
DEMO_DOMAIN = "demo"
DEMO_TOPIC = "demo.greetings"
FOREIGN_TOPIC = "other.secrets"


@dataclass(frozen=True)
class DemoResult:
    bootstrap_servers: str
    identity_certificate: Path
    records_read: list[tuple[str, str, int]]
    foreign_write_error: str


def run_demo(settings: LocalSettings, report: Callable[[str], None]) -> DemoResult:
    stack = LocalStack(settings)
    status = stack.up(report).broker
    broker = stack.broker
    admin_connection = broker.admin_connection()
    admin = AdminClient(admin_connection.client_config())

    report(f"Issuing identity {DEMO_IDENTITY} in domain {DEMO_DOMAIN}")
    issued = open_ledger(settings).issue(DEMO_IDENTITY, DEMO_DOMAIN)
    certificate_file, key_file = issued.write(broker.identities_dir)
    identity = MtlsConnection(admin_connection.bootstrap_servers, admin_connection.ca_file, certificate_file, key_file)

    report(f"Creating compacted topic {DEMO_TOPIC} and granting it to {DEMO_IDENTITY}")
    for topic in (DEMO_TOPIC, FOREIGN_TOPIC):
        create_stream_topic(admin, topic, partitions=3)
    create_acls(admin, producer_bindings(DEMO_IDENTITY, DEMO_TOPIC) + consumer_bindings(DEMO_IDENTITY, DEMO_TOPIC))

    report("Producing three records over mTLS")
    keys = ["alice", "bob", "carol"]
    producer = Producer(identity.client_config(**{"enable.idempotence": True, "acks": "all"}))
    failures: list[KafkaError] = []
    for key in keys:
        producer.produce(
            DEMO_TOPIC,
            key=key,
            value=f"hello {key}",
            on_delivery=lambda error, _message: failures.append(error) if error else None,
        )
    if producer.flush(30) != 0 or failures:
        reason = failures[0].str() if failures else "not delivered within 30 s"
        raise LocalStackError(f"Producing to {DEMO_TOPIC} failed: {reason}.")

    report("Reading them back")
    records = _read_history(identity, DEMO_TOPIC)

    report(f"Trying to write to {FOREIGN_TOPIC}, which {DEMO_IDENTITY} was not granted")
    errors: list[KafkaError] = []
    producer.produce(FOREIGN_TOPIC, key="x", value="y", on_delivery=lambda error, _: errors.append(error))
    producer.flush(30)
    return DemoResult(
        bootstrap_servers=status.bootstrap_servers or "",
        identity_certificate=certificate_file,
        records_read=records,
        foreign_write_error=errors[0].name() if errors and errors[0] else "none (unexpected)",
    )


def _read_history(identity: MtlsConnection, topic: str, timeout_s: float = 60.0) -> list[tuple[str, str, int]]:
    """Replay every partition from its first offset to its end (no consumer group join): the latest
    value per key, as a job rebuilding its state from the stream would see it."""
    consumer = Consumer(
        identity.client_config(
            **{
                "group.id": f"{consumer_group_prefix(DEMO_IDENTITY)}demo",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
            }
        )
    )
    try:
        partitions = set(consumer.list_topics(topic, timeout=30).topics[topic].partitions)
        consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING) for partition in partitions])
        latest: dict[str, tuple[str, int]] = {}
        deadline = time.monotonic() + timeout_s
        while partitions:
            if time.monotonic() > deadline:
                raise LocalStackError(
                    f"Reading {topic} did not reach the end of partitions {sorted(partitions)} in {timeout_s:.0f} s."
                )
            message = consumer.poll(1.0)
            if message is None:
                continue
            error = message.error()
            if error is not None and error.code() == KafkaError._PARTITION_EOF:
                partitions.discard(message.partition())
            elif error is not None:
                raise LocalStackError(f"Reading {topic} back failed: {error.str()}")
            else:
                latest[message.key().decode()] = (message.value().decode(), message.partition())
    finally:
        consumer.close()
    return [(key, value, partition) for key, (value, partition) in sorted(latest.items())]
