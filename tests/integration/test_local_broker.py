"""`headwater local up | down | status` and live certificate rotation, on brokers of their own."""

import socket
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, Producer

from headwater.local import processes
from headwater.local.broker import LocalBroker
from headwater.local.broker_tls import served_certificate
from headwater.local.errors import LocalStackError
from headwater.registry.ca import CertificateKind
from headwater.registry.kafka_topics import create_stream_topic
from tests.conftest import RunningBroker, broker_settings
from tests.kafka_helpers import produce_one, read_values


def _brokers_using(broker: LocalBroker) -> list[int]:
    listing = subprocess.run(["pgrep", "-f", "kafka.Kafka"], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in listing if str(broker.server_properties) in processes.command_line(int(pid))]


def test_up_twice_runs_one_broker(private_broker: RunningBroker) -> None:
    first = private_broker.broker.status()
    second = private_broker.broker.up()
    assert second.pid == first.pid and not second.started_now and second.answering
    assert _brokers_using(private_broker.broker) == [first.pid]


def test_down_stops_only_its_own_broker_and_a_restart_keeps_the_data(
    private_broker: RunningBroker, shared_broker: RunningBroker, unique_topic
) -> None:
    topic = unique_topic("kept")
    create_stream_topic(private_broker.admin(), topic, partitions=1)
    assert produce_one(private_broker.admin_connection, topic, value=b"before-restart").delivered
    before = private_broker.broker.status()

    assert private_broker.broker.down().startswith(f"Stopped the broker (pid {before.pid})")
    stopped = private_broker.broker.status()
    assert stopped.pid is None and not stopped.answering
    assert shared_broker.broker.status().answering

    restarted = private_broker.broker.up()
    assert restarted.started_now and restarted.cluster_id == before.cluster_id
    values = read_values(private_broker.admin_connection, topic, group="restart-check", count=1)
    assert values == [b"before-restart"]


def test_stale_pid_file_is_replaced_and_that_process_left_alone(private_broker: RunningBroker) -> None:
    broker = private_broker.broker
    broker.down()
    bystander = subprocess.Popen(["sleep", "120"])
    try:
        broker.pid_file.write_text(f"{bystander.pid}\n")
        assert "stale pid file" in broker.down()
        assert bystander.poll() is None

        broker.pid_file.write_text(f"{bystander.pid}\n")
        steps: list[str] = []
        status = broker.up(steps.append)
        assert any("stale pid file" in step for step in steps)
        assert status.started_now and status.pid != bystander.pid and status.answering
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_a_busy_port_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        settings = broker_settings(tmp_path / "state").model_copy(update={"kafka_port": busy})
        with pytest.raises(LocalStackError, match=rf"Port {busy} \(Kafka client listener\).*already in use") as error:
            LocalBroker(settings).up()
    assert "\n" not in str(error.value) and "--kafka-port" in str(error.value)


def test_a_corrupt_state_file_names_the_fix_and_the_fix_works(tmp_path: Path) -> None:
    broker = LocalBroker(broker_settings(tmp_path / "state"))
    broker.broker_dir.mkdir(parents=True)
    broker.state_file.write_text("{ not json")
    with pytest.raises(LocalStackError, match=r"broker\.json is corrupt .*headwater local down --purge"):
        broker.up()
    broker.down(purge=True)
    try:
        assert broker.up().answering
    finally:
        broker.down()


def test_formatted_storage_without_its_state_file_is_refused(tmp_path: Path) -> None:
    broker = LocalBroker(broker_settings(tmp_path / "state"))
    broker.data_dir.mkdir(parents=True)
    (broker.data_dir / "meta.properties").write_text("cluster.id=someone-else\n")
    with pytest.raises(LocalStackError, match="holds formatted Kafka storage but .*broker.json is missing"):
        broker.up()


def test_a_broker_that_fails_to_start_is_summarised_in_one_line(private_broker: RunningBroker) -> None:
    broker = private_broker.broker
    broker.down()
    (keystore,) = broker.broker_dir.glob("keystore-*.pem")
    keystore.write_text("this is not a PEM keystore\n")
    with pytest.raises(LocalStackError, match="The broker exited during start-up: ") as error:
        broker.up()
    message = str(error.value)
    assert "\n" not in message and "\tat " not in message
    assert broker.status().pid is None


def test_broker_certificate_rotates_without_a_restart(private_broker: RunningBroker, unique_topic) -> None:
    broker, admin_connection = private_broker.broker, private_broker.admin_connection
    topic = unique_topic("rotation")
    create_stream_topic(private_broker.admin(), topic, partitions=1)
    pid_before = broker.status().pid
    serial_before = served_certificate(private_broker.port, admin_connection).serial_number

    connected_before = Producer(admin_connection.client_config(**{"acks": "all", "enable.idempotence": True}))
    errors: list[KafkaError | None] = []
    connected_before.produce(topic, b"before", key=b"k1", on_delivery=lambda error, _message: errors.append(error))
    assert connected_before.flush(15) == 0

    issued = broker.rotate_certificate()

    assert issued.serial != serial_before
    fresh_handshakes = [served_certificate(private_broker.port, admin_connection).serial_number for _ in range(6)]
    assert fresh_handshakes == [issued.serial] * 6
    assert broker.status().pid == pid_before
    connected_before.produce(topic, b"after", key=b"k2", on_delivery=lambda error, _message: errors.append(error))
    assert connected_before.flush(15) == 0 and errors == [None, None]
    assert produce_one(admin_connection, topic, value=b"new-connection").delivered
    assert read_values(admin_connection, topic, group="rotation-check", count=3) == [
        b"before",
        b"after",
        b"new-connection",
    ]
    assert f"keystore-{issued.serial_hex}.pem" in broker.server_properties.read_text()


def test_up_renews_certificates_near_expiry_while_running(private_broker: RunningBroker) -> None:
    broker, ledger, settings = private_broker.broker, private_broker.ledger, private_broker.settings
    nearly_expired = datetime.now(UTC) - timedelta(minutes=55)
    for name, kind in (
        (settings.admin_identity, CertificateKind.CLIENT),
        (settings.broker_identity, CertificateKind.SERVER),
    ):
        ledger.issue(name, settings.platform_domain, kind, timedelta(hours=1), nearly_expired).write(
            broker.identities_dir
        )
    old_admin = broker.admin_files().load().serial_number

    steps: list[str] = []
    status = broker.up(steps.append)

    assert not status.started_now and status.answering
    assert any("Issued the admin certificate" in step for step in steps)
    assert any("Issued the broker certificate" in step for step in steps)
    new_admin = broker.admin_files().load().serial_number
    assert new_admin != old_admin
    served = served_certificate(private_broker.port, broker.admin_connection())
    assert served.not_valid_after_utc - datetime.now(UTC) > timedelta(hours=24)
