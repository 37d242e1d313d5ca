"""The end-to-end demo on embedded defaults: a local broker, an identity, a stream topic it owns,
records produced and read back over mTLS, and a write the broker refuses."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient

from headwater.config import LocalSettings
from headwater.ledger import open_ledger
from headwater.local.broker import LocalBroker
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
    broker = LocalBroker(settings)
    status = broker.up(report)
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
    for key in keys:
        producer.produce(DEMO_TOPIC, key=key, value=f"hello {key}")
    if producer.flush(30) != 0:
        raise RuntimeError("records were not delivered within 30 s")

    report("Reading them back")
    records = _read_latest(identity, DEMO_TOPIC, expected=set(keys))

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


def _read_latest(identity: MtlsConnection, topic: str, expected: set[str]) -> list[tuple[str, str, int]]:
    consumer = Consumer(
        identity.client_config(**{
            "group.id": f"{consumer_group_prefix(DEMO_IDENTITY)}demo",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        })
    )
    consumer.subscribe([topic])
    latest: dict[str, tuple[str, int]] = {}
    try:
        for _ in range(60):
            message = consumer.poll(1.0)
            if message is None or message.error():
                if expected <= latest.keys():
                    break
                continue
            latest[message.key().decode()] = (message.value().decode(), message.partition())
    finally:
        consumer.close()
    missing = expected - latest.keys()
    if missing:
        raise RuntimeError(f"records for {sorted(missing)} were not read back within 60 s")
    return [(key, value, partition) for key, (value, partition) in sorted(latest.items())]
