"""The end-to-end demo on embedded defaults: the local broker and hub, a domain and its stream
registered through the catalog, records published with the producer SDK over mTLS, the full state
backfilled from a SQLite table and certified by the hub, the stream's history replayed, and a write the
broker refuses."""

import json
import sqlite3
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
from headwater.producers.backfill import Backfill
from headwater.producers.backfill_sources import PLAIN_KEY, FieldMapping, SqlSource
from headwater.producers.connection import HubConnection, MtlsConnection
from headwater.producers.hub import HubClient, HubRefusedError, open_hub
from headwater.producers.stream_producer import StreamProducer, StreamSchemas
from headwater.registry.database import sqlite_url
from headwater.registry.kafka_topics import create_stream_topic

DEMO_IDENTITY = "demo-svc"
DEMO_DOMAIN = "demo"
DEMO_STREAM = "demo.greetings"
PEOPLE = ("alice", "bob", "carol", "dave", "erin")
FOREIGN_TOPIC = "other.secrets"
_ALREADY_EXISTS = (40930, 40931)  # the stream or the domain, from an earlier run of the demo
_GREETING = {
    "type": "record",
    "name": "Greeting",
    "namespace": "demo",
    "doc": "What each person was last told.",
    "fields": [{"name": "text", "type": "string", "doc": "The greeting."}],
}


@dataclass(frozen=True)
class DemoResult:
    bootstrap_servers: str
    identity_certificate: Path
    records_read: list[tuple[str, str, int]]
    backfilled_keys: int
    manifest_id: int
    certified_state: str
    foreign_write_error: str


def run_demo(settings: LocalSettings, report: Callable[[str], None]) -> DemoResult:
    stack = LocalStack(settings)
    status = stack.up(report)
    broker = stack.broker
    admin = broker.admin_connection()
    assert status.hub_url is not None  # up() waits until the hub answers

    report(f"Issuing identity {DEMO_IDENTITY} in domain {DEMO_DOMAIN}")
    issued = open_ledger(settings).issue(DEMO_IDENTITY, DEMO_DOMAIN)
    certificate_file, key_file = issued.write(broker.identities_dir)
    identity = MtlsConnection(admin.bootstrap_servers, admin.ca_file, certificate_file, key_file)
    identity_hub = HubConnection(status.hub_url, admin.ca_file, certificate_file, key_file)

    report(f"Registering the stream {DEMO_STREAM} in the catalog as {DEMO_IDENTITY}")
    with open_hub(HubConnection(status.hub_url, admin.ca_file, admin.certificate_file, admin.key_file)) as hub:
        _unless_exists(hub, "/domains", {"name": DEMO_DOMAIN, "owning_team": "demo", "contact": "demo@example.com"})
    with open_hub(identity_hub) as hub:
        _unless_exists(hub, "/streams", _stream_spec())

    report("Publishing three records with the producer SDK over mTLS")
    keys = ["alice", "bob", "carol"]
    with StreamProducer.open(DEMO_STREAM, identity_hub, identity) as producer:
        for key in keys:
            producer.send(key, {"text": f"hello {key}"})

    report("Backfilling every person's greeting from a SQLite table, then certifying the stream")
    source_url = _greetings_database(settings.state_dir / "demo" / "people.db")
    source = SqlSource(source_url, FieldMapping([], ["text"], {PLAIN_KEY: "name"}), table="greetings")
    backfilled = Backfill(DEMO_STREAM, identity_hub, identity, source, settings.state_dir / "backfills" / DEMO_STREAM)
    backfill_report = backfilled.run()
    with open_hub(identity_hub, timeout_s=300) as hub:
        certification = hub.post(f"/streams/{DEMO_STREAM}/certify", {})

    report("Replaying the stream's history from offset 0")
    records = _read_history(admin, DEMO_STREAM, producer.schemas)

    report(f"Trying to write to {FOREIGN_TOPIC}, which {DEMO_IDENTITY} was not granted")
    create_stream_topic(AdminClient(admin.client_config()), FOREIGN_TOPIC, partitions=3)
    errors: list[KafkaError] = []
    foreign = Producer(identity.client_config(**{"enable.idempotence": True, "acks": "all"}))
    foreign.produce(FOREIGN_TOPIC, key="x", value="y", on_delivery=lambda error, _: errors.append(error))
    foreign.flush(30)
    return DemoResult(
        bootstrap_servers=status.broker.bootstrap_servers or "",
        identity_certificate=certificate_file,
        records_read=records,
        backfilled_keys=backfill_report.keys,
        manifest_id=backfill_report.manifest_id,
        certified_state=str(certification["state"]),
        foreign_write_error=errors[0].name() if errors and errors[0] else "none (unexpected)",
    )


def _greetings_database(path: Path) -> str:
    """The demo's source of truth: a table of every person's latest greeting, made afresh each run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as database:
        database.execute("CREATE TABLE greetings (name TEXT PRIMARY KEY, text TEXT NOT NULL)")
        database.executemany("INSERT INTO greetings VALUES (?, ?)", [(name, f"hello {name}") for name in PEOPLE])
    database.close()
    return sqlite_url(path)


def _stream_spec() -> dict[str, object]:
    return {
        "name": DEMO_STREAM,
        "description": "The latest greeting for each person.",
        "owner_team": "demo",
        "contact": "demo@example.com",
        "partitions": 3,
        "key_schema": json.dumps("string"),
        "value_schema": json.dumps(_GREETING),
    }


def _unless_exists(hub: HubClient, path: str, body: dict[str, object]) -> None:
    try:
        hub.post(path, body)
    except HubRefusedError as refused:
        if refused.hub_error_code not in _ALREADY_EXISTS:
            raise


def _read_history(
    reader: MtlsConnection, topic: str, schemas: StreamSchemas, timeout_s: float = 60.0
) -> list[tuple[str, str, int]]:
    """Replay every partition from its first offset to its end (no consumer group join): the latest
    value per key, as a job rebuilding its state from the stream would see it."""
    consumer = Consumer(
        reader.client_config(
            **{"group.id": "headwater-demo", "enable.auto.commit": False, "enable.partition.eof": True}
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
                value = schemas.value.decode(message.value())["text"]
                latest[schemas.key.decode(message.key())] = (value, message.partition())
    finally:
        consumer.close()
    return [(key, value, partition) for key, (value, partition) in sorted(latest.items())]
