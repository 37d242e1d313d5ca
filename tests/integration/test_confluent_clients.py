"""Stock confluent-kafka schema-registry clients, unchanged, against the hub over mTLS, with records
going through the real broker: headwater is a drop-in Confluent Schema Registry."""

import json
import struct
from collections.abc import Iterator

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from headwater.ledger import open_hub_database
from headwater.producers.connection import MtlsConnection
from headwater.registry.kafka_topics import create_stream_topic
from headwater.registry.services.schema_registry import SchemaRegistry
from tests.conftest import IdentityFactory, RunningBroker, RunningHub
from tests.policy_helpers import SHIPPED_POLICIES

PAYMENT_V1 = {
    "type": "record",
    "name": "Payment",
    "namespace": "com.example.payments",
    "fields": [
        {"name": "id", "type": "string"},
        {
            "name": "amount",
            "type": {
                "type": "record",
                "name": "Money",
                "fields": [
                    {"name": "units", "type": "long"},
                    {
                        "name": "currency",
                        "type": {"type": "enum", "name": "Currency", "symbols": ["EUR", "GBP", "USD"]},
                    },
                ],
            },
        },
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["PENDING", "SETTLED"]}},
    ],
}
PAYMENT_V2 = {**PAYMENT_V1, "fields": [*PAYMENT_V1["fields"], {"name": "channel", "type": "string", "default": "web"}]}
PAYMENT_BREAKING = {**PAYMENT_V1, "fields": [*PAYMENT_V1["fields"], {"name": "country", "type": "string"}]}
RECORD = {"id": "p-1", "amount": {"units": 1250, "currency": "GBP"}, "note": "rent", "status": "SETTLED"}


def registry_client(hub: RunningHub, connection: MtlsConnection) -> SchemaRegistryClient:
    return SchemaRegistryClient(
        {
            "url": hub.base_url,
            "ssl.ca.location": str(hub.ca_file),
            "ssl.certificate.location": str(connection.certificate_file),
            "ssl.key.location": str(connection.key_file),
        }
    )


@pytest.fixture
def admin_registry(shared_hub: RunningHub, shared_broker: RunningBroker) -> Iterator[SchemaRegistryClient]:
    yield registry_client(shared_hub, shared_broker.admin_connection)


@pytest.fixture
def topic(shared_broker: RunningBroker, unique_topic) -> str:
    name = unique_topic("payments")
    create_stream_topic(shared_broker.admin(), name, partitions=1)
    return name


def _text(schema: dict[str, object]) -> str:
    return json.dumps(schema)


def _produce(connection: MtlsConnection, topic: str, value: bytes) -> None:
    errors: list[KafkaError] = []
    producer = Producer(connection.client_config())
    producer.produce(
        topic, key=b"p-1", value=value, on_delivery=lambda error, _m: errors.append(error) if error else None
    )
    assert producer.flush(15) == 0 and not errors


def _read_one(connection: MtlsConnection, topic: str) -> bytes:
    consumer = Consumer(connection.client_config(**{"group.id": "confluent-clients", "enable.auto.commit": False}))
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    try:
        for _ in range(20):
            message = consumer.poll(1.0)
            if message is not None and not message.error():
                return message.value()
    finally:
        consumer.close()
    raise AssertionError(f"nothing read from {topic}")


def test_avro_round_trip_through_the_broker(
    admin_registry: SchemaRegistryClient, shared_broker: RunningBroker, topic: str
) -> None:
    serializer = AvroSerializer(admin_registry, _text(PAYMENT_V1))
    value = serializer(RECORD, SerializationContext(topic, MessageField.VALUE))
    _produce(shared_broker.admin_connection, topic, value)

    stored = _read_one(shared_broker.admin_connection, topic)
    magic, schema_id = struct.unpack(">bI", stored[:5])
    registered = admin_registry.get_latest_version(f"{topic}-value")
    assert (magic, schema_id) == (0, registered.schema_id)
    deserializer = AvroDeserializer(admin_registry)
    assert deserializer(stored, SerializationContext(topic, MessageField.VALUE)) == RECORD


def test_serializer_without_auto_registration_looks_the_schema_up(
    admin_registry: SchemaRegistryClient, topic: str
) -> None:
    context = SerializationContext(topic, MessageField.VALUE)
    lookup_only = AvroSerializer(admin_registry, _text(PAYMENT_V1), conf={"auto.register.schemas": False})
    with pytest.raises(SchemaRegistryError) as unknown:
        lookup_only(RECORD, context)
    assert (unknown.value.http_status_code, unknown.value.error_code) == (404, 40401)
    schema_id = admin_registry.register_schema(f"{topic}-value", Schema(_text(PAYMENT_V1), "AVRO"))
    assert struct.unpack(">bI", lookup_only(RECORD, context)[:5]) == (0, schema_id)


def test_serializer_with_use_latest_version_writes_with_the_newest_schema(
    admin_registry: SchemaRegistryClient, topic: str
) -> None:
    subject = f"{topic}-value"
    admin_registry.register_schema(subject, Schema(_text(PAYMENT_V1), "AVRO"))
    newest = admin_registry.register_schema(subject, Schema(_text(PAYMENT_V2), "AVRO"))
    latest = AvroSerializer(
        admin_registry, _text(PAYMENT_V1), conf={"auto.register.schemas": False, "use.latest.version": True}
    )
    written = latest({**RECORD, "channel": "app"}, SerializationContext(topic, MessageField.VALUE))
    assert struct.unpack(">bI", written[:5]) == (0, newest)


def test_compatibility_levels_and_checks(admin_registry: SchemaRegistryClient, topic: str) -> None:
    subject = f"{topic}-value"
    admin_registry.register_schema(subject, Schema(_text(PAYMENT_V1), "AVRO"))
    with pytest.raises(SchemaRegistryError) as missing:
        admin_registry.get_compatibility(subject)
    assert (missing.value.http_status_code, missing.value.error_code) == (404, 40408)

    assert admin_registry.test_compatibility(subject, Schema(_text(PAYMENT_V2), "AVRO")) is True
    assert admin_registry.test_compatibility(subject, Schema(_text(PAYMENT_BREAKING), "AVRO")) is False
    with pytest.raises(SchemaRegistryError) as refused:
        admin_registry.register_schema(subject, Schema(_text(PAYMENT_BREAKING), "AVRO"))
    assert (refused.value.http_status_code, refused.value.error_code) == (409, 40901)
    assert "country" in refused.value.error_message

    admin_registry.set_compatibility(subject, "NONE")
    assert admin_registry.get_compatibility(subject) == "NONE"
    assert admin_registry.test_compatibility(subject, Schema(_text(PAYMENT_BREAKING), "AVRO")) is True


def test_soft_then_permanent_delete(admin_registry: SchemaRegistryClient, topic: str) -> None:
    subject = f"{topic}-value"
    first = admin_registry.register_schema(subject, Schema(_text(PAYMENT_V1), "AVRO"))
    admin_registry.register_schema(subject, Schema(_text(PAYMENT_V2), "AVRO"))

    assert admin_registry.delete_version(subject, 1) == 1
    assert admin_registry.get_versions(subject) == [2]
    assert json.loads(admin_registry.get_schema(first).schema_str) == PAYMENT_V1
    with pytest.raises(SchemaRegistryError) as not_soft_deleted:
        admin_registry.delete_version(subject, 2, permanent=True)
    assert not_soft_deleted.value.error_code == 40407
    assert admin_registry.delete_version(subject, 1, permanent=True) == 1

    assert admin_registry.delete_subject(subject) == [2]
    assert subject not in admin_registry.get_subjects()
    assert admin_registry.delete_subject(subject, permanent=True) == [2]
    with pytest.raises(SchemaRegistryError) as gone:
        admin_registry.get_versions(subject)
    assert gone.value.error_code == 40401


def test_only_the_admin_or_a_granted_identity_writes_a_subject(
    shared_hub: RunningHub, shared_broker: RunningBroker, issue_identity: IdentityFactory, topic: str
) -> None:
    subject = f"{topic}-value"
    owner, stranger = issue_identity(), issue_identity()
    SchemaRegistry(open_hub_database(shared_broker.settings), SHIPPED_POLICIES).grant_subject(
        subject, owner.certificate_file.stem
    )

    schema_id = registry_client(shared_hub, owner).register_schema(subject, Schema(_text(PAYMENT_V1), "AVRO"))
    stranger_client = registry_client(shared_hub, stranger)
    with pytest.raises(SchemaRegistryError) as forbidden:
        stranger_client.register_schema(subject, Schema(_text(PAYMENT_V2), "AVRO"))
    assert (forbidden.value.http_status_code, forbidden.value.error_code) == (403, 40301)
    assert json.loads(stranger_client.get_schema(schema_id).schema_str) == PAYMENT_V1


def test_invalid_schemas_get_confluent_error_codes(admin_registry: SchemaRegistryClient, topic: str) -> None:
    subject = f"{topic}-value"
    cases = {
        '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "moneyy"}]}': "unknown type name 'moneyy'",
        '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "default": "x"}]}': "default",
        '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}, {"name": "a", "type": "int"}]}': (
            "duplicate field name 'a'"
        ),
        '{"type": "record"': "not valid JSON",
    }
    for text, problem in cases.items():
        with pytest.raises(SchemaRegistryError) as invalid:
            admin_registry.register_schema(subject, Schema(text, "AVRO"))
        assert (invalid.value.http_status_code, invalid.value.error_code) == (422, 42201), text
        assert problem in invalid.value.error_message
    with pytest.raises(SchemaRegistryError) as bad_level:
        admin_registry.set_compatibility(subject, "SIDEWAYS")
    assert bad_level.value.error_code == 42203
    with pytest.raises(SchemaRegistryError) as unknown_id:
        admin_registry.get_schema(2**31 - 5)
    assert (unknown_id.value.http_status_code, unknown_id.value.error_code) == (404, 40403)
    assert admin_registry.get_subjects() == [s for s in admin_registry.get_subjects() if s != subject]
