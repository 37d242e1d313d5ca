"""The producer SDK against the real broker and hub: wire format read back by Confluent's own
deserializer, tombstones, bad records refused before anything is sent, non-owners refused by the
broker, and partitions identical to the Java producer's for the same key bytes."""

import shutil
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from cryptography import x509

from headwater.local.java import find_java
from headwater.local.kafka_jars import kafka_lib_dir
from headwater.producers.connection import HubConnection, MtlsConnection
from headwater.producers.errors import (
    DeliveryFailedError,
    KeyRequiredError,
    RecordRejectedError,
    StreamNotWritableError,
)
from headwater.producers.hub import HubRefusedError
from headwater.producers.stream_producer import StreamProducer
from headwater.producers.wire_format import unframe
from headwater.registry.ca import CertificateKind
from headwater.registry.kafka_acls import create_acls, producer_bindings
from tests.conftest import IdentityFactory, RunningBroker, RunningHub
from tests.hub_helpers import fresh_domain, hub_http_client
from tests.integration.test_broker_security import REFUSED_CERTIFICATE_ALERTS
from tests.integration.test_stream_registration import spec
from tests.kafka_helpers import tls_refusal

JAVA_PROBE = Path(__file__).parents[1] / "java" / "PartitionProbe.java"


@pytest.fixture
def team(shared_hub: RunningHub, shared_broker: RunningBroker, issue_identity: IdentityFactory) -> MtlsConnection:
    """An identity of a fresh domain."""
    return issue_identity(domain=fresh_domain(shared_hub, shared_broker))


def _domain_of(identity: MtlsConnection, shared_hub: RunningHub) -> str:
    with hub_http_client(shared_hub, identity) as client:
        return str(client.get("/api/v1/identity").json()["domain"])


def _register(shared_hub: RunningHub, owner: MtlsConnection, entity: str, partitions: int = 3) -> str:
    name = f"{_domain_of(owner, shared_hub)}.{entity}"
    with hub_http_client(shared_hub, owner) as client:
        registered = client.post("/api/v1/streams", json=spec(name, partitions=partitions))
        assert registered.status_code == 201, registered.text
    return name


def _hub(shared_hub: RunningHub, identity: MtlsConnection) -> HubConnection:
    return HubConnection(shared_hub.base_url, identity.ca_file, identity.certificate_file, identity.key_file)


def _order(number: int) -> tuple[dict[str, str], dict[str, object]]:
    order_id = f"order-{number}"
    return {"order_id": order_id}, {"order_id": order_id, "buyer": {"email": f"{number}@x.io"}, "amount_minor": number}


def _read_all(connection: MtlsConnection, topic: str, partitions: int) -> list[tuple[int, bytes, bytes | None]]:
    """Every record of the topic, as (partition, key, value), read from offset 0 of each partition."""
    consumer = Consumer(connection.client_config(**{"group.id": f"g-{uuid.uuid4().hex}", "enable.auto.commit": False}))
    try:
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)}
        consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        records: list[tuple[int, bytes, bytes | None]] = []
        while len(records) < sum(ends.values()):
            for message in consumer.consume(1000, timeout=5):
                assert message.error() is None, message.error()
                records.append((message.partition(), message.key(), message.value()))
        return records
    finally:
        consumer.close()


def test_records_and_tombstones_read_back_with_confluents_deserializer(
    shared_hub: RunningHub, shared_broker: RunningBroker, team: MtlsConnection
) -> None:
    stream = _register(shared_hub, team, "order")
    with StreamProducer.open(stream, _hub(shared_hub, team), team) as producer:
        for number in range(100):
            producer.send(*_order(number))
        producer.delete({"order_id": "order-7"})

    records = _read_all(shared_broker.admin_connection, stream, 3)
    assert len(records) == 101
    admin = shared_broker.admin_connection
    registry = SchemaRegistryClient(
        {
            "url": shared_hub.base_url,
            "ssl.ca.location": str(admin.ca_file),
            "ssl.certificate.location": str(admin.certificate_file),
            "ssl.key.location": str(admin.key_file),
        }
    )
    values = AvroDeserializer(registry)
    keys = AvroDeserializer(registry)
    decoded = {}
    for _, key, value in records:
        order_key = keys(key, SerializationContext(stream, MessageField.KEY))
        decoded[order_key["order_id"]] = (
            None if value is None else values(value, SerializationContext(stream, MessageField.VALUE))
        )
    assert decoded["order-7"] is None  # the tombstone is the key's latest record
    assert decoded["order-42"] == _order(42)[1]
    assert {unframe(key)[0] for _, key, _ in records} == {producer.schemas.key.schema_id}
    # Same key, same bytes, same partition: every record of a key sits in one partition.
    partitions_of = {}
    for partition, key, _ in records:
        partitions_of.setdefault(key, set()).add(partition)
    assert all(len(found) == 1 for found in partitions_of.values())


def test_bad_records_are_refused_before_anything_is_sent(
    shared_hub: RunningHub, shared_broker: RunningBroker, team: MtlsConnection
) -> None:
    stream = _register(shared_hub, team, "refusals")
    with StreamProducer.open(stream, _hub(shared_hub, team), team) as producer:
        key, value = _order(1)
        with pytest.raises(KeyRequiredError, match="need a key"):
            producer.send(None, value)
        with pytest.raises(RecordRejectedError, match=r"field Order\.amount_minor = 'ten' is not a long"):
            producer.send(key, {**value, "amount_minor": "ten"})
        with pytest.raises(RecordRejectedError, match="more fields than the schema specifies: colour"):
            producer.send(key, {**value, "colour": "red"})
        with pytest.raises(RecordRejectedError, match=r"The key does not match .* field OrderKey\.order_id = 5"):
            producer.send({"order_id": 5}, value)
        with pytest.raises(RecordRejectedError, match=r"field Order\.order_id = None is not a string"):
            producer.send(key, {"buyer": {"email": "a@b"}, "amount_minor": 1})
        producer.send(key, value)  # a good record after the refusals

    records = _read_all(shared_broker.admin_connection, stream, 3)
    assert [(producer.schemas.key.decode(k), producer.schemas.value.decode(v)) for _, k, v in records] == [(key, value)]


def test_a_non_owner_is_refused_by_the_broker_and_told_so(
    shared_hub: RunningHub, shared_broker: RunningBroker, team: MtlsConnection, issue_identity: IdentityFactory
) -> None:
    stream = _register(shared_hub, team, "guarded")
    stranger = issue_identity(domain=_domain_of(team, shared_hub))  # same domain, not the owner
    producer = StreamProducer.open(stream, _hub(shared_hub, stranger), stranger)
    producer.send(*_order(1))
    # TOPIC_AUTHORIZATION_FAILED, or CLUSTER_AUTHORIZATION_FAILED when the broker refused the producer id
    # first (an identity without WRITE on any topic gets none): a fatal error, reported the same way.
    with pytest.raises(DeliveryFailedError, match="1 record.*not delivered.*(TOPIC|CLUSTER)_AUTHORIZATION_FAILED"):
        producer.flush(30)
    assert _read_all(shared_broker.admin_connection, stream, 3) == []


def test_opening_an_unknown_or_deleted_stream_says_so(shared_hub: RunningHub, team: MtlsConnection) -> None:
    domain = _domain_of(team, shared_hub)
    with pytest.raises(HubRefusedError, match="40431"):
        StreamProducer.open(f"{domain}.missing", _hub(shared_hub, team), team)
    stream = _register(shared_hub, team, "short-lived")
    with hub_http_client(shared_hub, team) as owner:
        sunset = {"sunset_at": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(), "message": "Gone."}
        assert owner.post(f"/api/v1/streams/{stream}/deprecate", json=sunset).status_code == 200
        time.sleep(1.5)
        deleted = owner.delete(f"/api/v1/streams/{stream}")
        assert deleted.status_code == 200, deleted.text
    with pytest.raises(StreamNotWritableError, match="DELETED"):
        StreamProducer.open(stream, _hub(shared_hub, team), team)


def test_partitions_equal_the_java_producers_for_every_key(
    shared_hub: RunningHub, shared_broker: RunningBroker, team: MtlsConnection, tmp_path: Path
) -> None:
    counts = (1, 7, 12, 64)
    admin_client = AdminClient(shared_broker.admin_connection.client_config())
    java_topics = {count: f"java-probe-{count}-{uuid.uuid4().hex[:8]}" for count in counts}
    for future in admin_client.create_topics([NewTopic(t, c, 1) for c, t in java_topics.items()]).values():
        future.result(30)
    orders = [_order(number) for number in range(10_000)]
    key_bytes: list[bytes] = []
    sdk_streams = {}
    for count in counts:
        stream = _register(shared_hub, team, f"keys-{count}", partitions=count)
        sdk_streams[count] = stream
        with StreamProducer.open(stream, _hub(shared_hub, team), team) as producer:
            for key, value in orders:
                producer.send(key, value)
            key_bytes = [producer.schemas.key.encode(key) for key, _ in orders]
    keys_file = tmp_path / "keys.hex"
    keys_file.write_text("\n".join(key.hex() for key in key_bytes) + "\n")
    admin = shared_broker.admin_connection
    classpath = str(kafka_lib_dir(shared_broker.settings.cache_dir, shared_broker.settings.kafka_version) / "*")
    probe = subprocess.run(
        [str(find_java()), "-cp", classpath, str(JAVA_PROBE), admin.bootstrap_servers]
        + [str(admin.ca_file), str(admin.certificate_file), str(admin.key_file), str(keys_file)]
        + list(java_topics.values()),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]

    for count in counts:
        java = {key: partition for partition, key, _ in _read_all(admin, java_topics[count], count)}
        sdk = {key: partition for partition, key, _ in _read_all(admin, sdk_streams[count], count)}
        assert len(java) == len(sdk) == 10_000
        differing = [key.hex() for key in sdk if sdk[key] != java[key]]
        assert not differing, f"{len(differing)} of 10,000 keys differ on {count} partitions, e.g. {differing[:3]}"
        assert len(set(sdk.values())) == count  # the keys spread over every partition


def test_the_certificate_is_renewed_mid_run_without_losing_or_repeating_a_record(
    shared_hub: RunningHub, shared_broker: RunningBroker, team: MtlsConnection, tmp_path: Path
) -> None:
    domain = _domain_of(team, shared_hub)
    lifetime = timedelta(seconds=45)
    start = datetime.now(UTC) - timedelta(seconds=1)
    owner = shared_broker.ledger.issue(
        f"renewing-{uuid.uuid4().hex[:8]}", domain, CertificateKind.CLIENT, lifetime, start
    )
    certificate_file, key_file = owner.write(tmp_path / "owner")
    kafka = MtlsConnection(shared_broker.bootstrap_servers, shared_broker.settings.ca_file, certificate_file, key_file)
    stream = _register(shared_hub, kafka, "renewed")
    old_files = tmp_path / "old"
    old_files.mkdir()
    old = MtlsConnection(
        kafka.bootstrap_servers,
        kafka.ca_file,
        Path(shutil.copy(certificate_file, old_files)),
        Path(shutil.copy(key_file, old_files)),
    )

    # 10,000 records paced over about 36 s: the producer renews after 2/3 of the 45 s lifetime (30 s).
    with StreamProducer.open(stream, _hub(shared_hub, kafka), kafka) as producer:
        for batch in range(40):
            for number in range(batch * 250, (batch + 1) * 250):
                producer.send(*_order(number))
            time.sleep(0.9)
        assert producer.renewals == 1

    assert certificate_file.read_bytes() != old.certificate_file.read_bytes()
    records = _read_all(shared_broker.admin_connection, stream, 3)
    keys = [producer.schemas.key.decode(key)["order_id"] for _, key, _ in records]
    assert len(keys) == 10_000 and set(keys) == {f"order-{number}" for number in range(10_000)}  # each exactly once

    time.sleep(max(0.0, (start + lifetime - datetime.now(UTC)).total_seconds() + 2))
    assert tls_refusal(shared_broker.port, old, str(old.ca_file)) in REFUSED_CERTIFICATE_ALERTS
    with StreamProducer.open(stream, _hub(shared_hub, kafka), kafka) as producer:  # the renewed files work
        producer.send(*_order(10_000))


def test_a_renewal_after_a_failed_record_still_moves_to_the_new_certificate(
    shared_hub: RunningHub, shared_broker: RunningBroker, team: MtlsConnection, tmp_path: Path
) -> None:
    stream = _register(shared_hub, team, "refused-then-renewed")
    # A stranger of the same domain: its records are refused by the ACL, so the flush before the swap
    # reports a failure. Renewal falls due 2/3 into a 9 s lifetime started 1 s ago: after about 5 s.
    start = datetime.now(UTC) - timedelta(seconds=1)
    stranger = shared_broker.ledger.issue(
        f"stranger-{uuid.uuid4().hex[:8]}",
        _domain_of(team, shared_hub),
        CertificateKind.CLIENT,
        timedelta(seconds=9),
        start,
    )
    # WRITE on some other topic gets it a producer id: the refusal is then the per-record
    # TOPIC_AUTHORIZATION_FAILED, not a fatal error (which replaces the client anyway).
    create_acls(
        AdminClient(shared_broker.admin_connection.client_config()), producer_bindings(stranger.identity, "other")
    )
    certificate_file, key_file = stranger.write(tmp_path / "stranger")
    kafka = MtlsConnection(shared_broker.bootstrap_servers, shared_broker.settings.ca_file, certificate_file, key_file)
    producer = StreamProducer.open(stream, _hub(shared_hub, kafka), kafka)
    assert producer.certificate_serial == stranger.serial
    producer.send(*_order(1))

    time.sleep(max(0.0, (start + timedelta(seconds=6.5) - datetime.now(UTC)).total_seconds()))
    with pytest.raises(DeliveryFailedError, match="1 record.*not delivered.*TOPIC_AUTHORIZATION_FAILED"):
        producer.send(*_order(2))  # renews, and the flush before the swap reports record 1

    assert producer.renewals == 1
    renewed = x509.load_pem_x509_certificate(certificate_file.read_bytes()).serial_number
    assert renewed != stranger.serial and producer.certificate_serial == renewed
