"""The broker's client listener demands a hub-CA certificate, and ACLs decide what each identity may do."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, Producer
from confluent_kafka.admin import ResourceType

from headwater.producers.connection import MtlsConnection
from headwater.registry.kafka_acls import (
    consumer_bindings,
    consumer_group_prefix,
    create_acls,
    delete_identity_acls,
    producer_bindings,
)
from headwater.registry.kafka_topics import create_stream_topic
from tests.conftest import IdentityFactory, RunningBroker
from tests.kafka_helpers import foreign_ca_impostor, produce_one, read_values, tls_refusal

TLS_FAILURES = {KafkaError._SSL, KafkaError._TRANSPORT, KafkaError._AUTHENTICATION}
REFUSED_CERTIFICATE_ALERTS = {
    "SSLV3_ALERT_BAD_CERTIFICATE",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED",
    "TLSV1_ALERT_UNKNOWN_CA",
}


@pytest.fixture
def topic(shared_broker: RunningBroker, unique_topic) -> str:
    name = unique_topic("security")
    assert create_stream_topic(shared_broker.admin(), name, partitions=1)
    return name


def _assert_refused_by_tls(broker: RunningBroker, connection: MtlsConnection, topic: str) -> str:
    """Produce fails (the record times out, librdkafka reports a TLS failure), and a raw TLS session
    with the same certificate is answered with an alert. Returns the alert for finer checks."""
    outcome = produce_one(connection, topic, timeout_s=6)
    assert outcome.delivery_error is not None and outcome.delivery_error.code() == KafkaError._MSG_TIMED_OUT
    seen = {error.code() for error in outcome.client_errors}
    assert seen & TLS_FAILURES, f"expected a TLS refusal, the client saw {outcome.client_errors}"
    return tls_refusal(broker.port, connection, str(broker.settings.ca_file))


def test_client_without_certificate_is_refused(shared_broker: RunningBroker, topic: str) -> None:
    alert = tls_refusal(shared_broker.port, None, str(shared_broker.settings.ca_file))
    # Java answers a missing client certificate with bad_certificate, not TLS 1.3's certificate_required.
    assert alert in {"SSLV3_ALERT_BAD_CERTIFICATE", "TLSV13_ALERT_CERTIFICATE_REQUIRED"}
    errors: list[KafkaError] = []
    delivered: list[KafkaError | None] = []
    producer = Producer(
        {
            "bootstrap.servers": shared_broker.bootstrap_servers,
            "security.protocol": "SSL",
            "ssl.ca.location": str(shared_broker.settings.ca_file),
            "broker.address.family": "v4",
            "message.timeout.ms": 6000,
            "error_cb": errors.append,
        }
    )
    producer.produce(topic, b"v", on_delivery=lambda error, _message: delivered.append(error))
    producer.flush(15)
    assert delivered[0] is not None and delivered[0].code() == KafkaError._MSG_TIMED_OUT
    assert {error.code() for error in errors} & TLS_FAILURES


def test_certificate_from_another_ca_is_refused_even_for_the_admin_name(
    shared_broker: RunningBroker, topic: str, tmp_path: Path
) -> None:
    # The admin's name, to show that only the CA signature counts.
    certificate_file, key_file = foreign_ca_impostor(tmp_path, shared_broker.settings.admin_identity)
    connection = MtlsConnection(
        shared_broker.bootstrap_servers, shared_broker.settings.ca_file, certificate_file, key_file
    )
    assert _assert_refused_by_tls(shared_broker, connection, topic) in REFUSED_CERTIFICATE_ALERTS


def test_expired_certificate_is_refused(
    shared_broker: RunningBroker, topic: str, issue_identity: IdentityFactory
) -> None:
    connection = issue_identity(lifetime=timedelta(hours=1), not_before=datetime.now(UTC) - timedelta(hours=2))
    create_acls(shared_broker.admin(), producer_bindings(_identity_of(connection), topic))
    assert _assert_refused_by_tls(shared_broker, connection, topic) in REFUSED_CERTIFICATE_ALERTS


def test_not_yet_valid_certificate_is_refused(
    shared_broker: RunningBroker, topic: str, issue_identity: IdentityFactory
) -> None:
    connection = issue_identity(lifetime=timedelta(hours=1), not_before=datetime.now(UTC) + timedelta(hours=1))
    create_acls(shared_broker.admin(), producer_bindings(_identity_of(connection), topic))
    assert _assert_refused_by_tls(shared_broker, connection, topic) in REFUSED_CERTIFICATE_ALERTS


def _identity_of(connection: MtlsConnection) -> str:
    return connection.certificate_file.stem


def test_valid_identity_without_acls_can_neither_produce_nor_consume(
    shared_broker: RunningBroker, topic: str, issue_identity: IdentityFactory
) -> None:
    assert produce_one(shared_broker.admin_connection, topic).delivered
    connection = issue_identity()
    outcome = produce_one(connection, topic)
    assert outcome.delivery_error is not None
    assert outcome.delivery_error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    with pytest.raises(AssertionError, match="GROUP_AUTHORIZATION_FAILED"):
        read_values(connection, topic, group=f"{consumer_group_prefix(_identity_of(connection))}g", count=1)


def test_group_grant_alone_does_not_open_the_topic(
    shared_broker: RunningBroker, topic: str, issue_identity: IdentityFactory
) -> None:
    assert produce_one(shared_broker.admin_connection, topic).delivered
    connection = issue_identity()
    group_only = [
        binding
        for binding in consumer_bindings(_identity_of(connection), topic)
        if binding.restype == ResourceType.GROUP
    ]
    assert len(group_only) == 1
    create_acls(shared_broker.admin(), group_only)
    with pytest.raises(AssertionError, match="TOPIC_AUTHORIZATION_FAILED"):
        read_values(connection, topic, group=f"{consumer_group_prefix(_identity_of(connection))}g", count=1)


def test_owner_writes_its_own_topic_and_is_denied_on_another_identitys_topic(
    shared_broker: RunningBroker, unique_topic, issue_identity: IdentityFactory
) -> None:
    admin = shared_broker.admin()
    own_topic, other_topic = unique_topic("orders"), unique_topic("payments")
    for name in (own_topic, other_topic):
        create_stream_topic(admin, name, partitions=1)
    owner, other = issue_identity(domain="orders"), issue_identity(domain="payments")
    create_acls(admin, producer_bindings(_identity_of(owner), own_topic))
    create_acls(admin, producer_bindings(_identity_of(other), other_topic))

    assert produce_one(owner, own_topic).delivered
    denied = produce_one(owner, other_topic)
    assert denied.delivery_error is not None
    assert denied.delivery_error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_consumer_grant_allows_reading_with_its_own_group_prefix_only(
    shared_broker: RunningBroker, topic: str, issue_identity: IdentityFactory
) -> None:
    admin = shared_broker.admin()
    assert produce_one(shared_broker.admin_connection, topic, value=b"payload").delivered
    reader = issue_identity()
    name = _identity_of(reader)
    create_acls(admin, consumer_bindings(name, topic))

    assert read_values(reader, topic, group=f"{consumer_group_prefix(name)}reporting", count=1) == [b"payload"]
    with pytest.raises(AssertionError, match="GROUP_AUTHORIZATION_FAILED"):
        read_values(reader, topic, group="someone-elses-group", count=1, timeout_s=10)


def test_removing_an_identitys_acls_makes_the_broker_refuse_it(
    shared_broker: RunningBroker, topic: str, issue_identity: IdentityFactory
) -> None:
    admin = shared_broker.admin()
    writer = issue_identity()
    create_acls(admin, producer_bindings(_identity_of(writer), topic))
    assert produce_one(writer, topic).delivered

    assert delete_identity_acls(admin, _identity_of(writer)) == 2
    refused = produce_one(writer, topic)
    assert refused.delivery_error is not None
    assert refused.delivery_error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_admin_identity_can_do_anything(shared_broker: RunningBroker, unique_topic) -> None:
    admin = shared_broker.admin()
    name = unique_topic("admin")
    assert create_stream_topic(admin, name, partitions=2)
    assert produce_one(shared_broker.admin_connection, name, value=b"by-admin").delivered
    assert read_values(shared_broker.admin_connection, name, group="any-group-at-all", count=1) == [b"by-admin"]
    create_acls(admin, producer_bindings("someone", name))
    assert delete_identity_acls(admin, "someone") == 2
    for future in admin.delete_topics([name], operation_timeout=30).values():
        assert future.result() is None
