"""The broker refuses revoked, expired and unidentified certificates on every request, super users
included, on connections opened before the revocation as on new ones, within seconds; it reads
identities from certificate subjects by the hub's rule alone; and a broken revocation list fails
static (the last good list stays in force) or, before any list was read, closed (only the broker).

librdkafka's statistics count the TCP connections a client opened: a refusal on an "open connection"
is checked to come without a new one.
"""

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from cryptography import x509

from headwater.producers.connection import MtlsConnection
from headwater.registry.ca import CertificateKind, CertificateLedger
from headwater.registry.ca.authority import CLOCK_SKEW_ALLOWANCE
from headwater.registry.kafka_acls import create_acls, producer_bindings
from headwater.registry.kafka_topics import create_stream_topic
from tests.conftest import IdentityFactory, RunningBroker
from tests.crafted_certificates import CRAFTED_SUBJECTS, craft_certificate
from tests.kafka_helpers import produce_one

REFUSAL_DEADLINE_S = 5.0
"""From the ledger's revocation to the broker's refusal (it checks the list every second)."""


class ConnectionCounter:
    """A `stats_cb`: how many TCP connections the client has opened so far, by librdkafka's count."""

    def __init__(self) -> None:
        self.connects: int | None = None

    def __call__(self, statistics: str) -> None:
        self.connects = sum(broker["connects"] for broker in json.loads(statistics)["brokers"].values())

    def settled(self, client: Producer | AdminClient) -> int:
        """The count once fresh statistics came in (every 100 ms, served by poll)."""
        self.connects = None
        deadline = time.monotonic() + 5
        while self.connects is None and time.monotonic() < deadline:
            client.poll(0.2)
        assert self.connects is not None, "no statistics from librdkafka"
        return self.connects


def _counted(connection: MtlsConnection, counter: ConnectionCounter, **extra: object) -> dict[str, object]:
    return connection.client_config(**{"statistics.interval.ms": 100, "stats_cb": counter, **extra})


def _send(producer: Producer, topic: str) -> KafkaError | None:
    """One record through an existing producer; the delivery error, if any."""
    results: list[KafkaError | None] = []
    producer.produce(topic, key=b"k", value=b"v", on_delivery=lambda error, _message: results.append(error))
    producer.flush(15)
    assert results, "no delivery report"
    return results[0]


def _send_new(connection: MtlsConnection, topic: str) -> KafkaError | None:
    """One record through a new producer, so a new connection. Not idempotent: an idempotent producer
    refused its producer id fails fatally with CLUSTER_AUTHORIZATION_FAILED or, if its metadata request
    came first, with TOPIC_AUTHORIZATION_FAILED; this one always gets the latter."""
    return _send(Producer(connection.client_config(**{"message.timeout.ms": 10000})), topic)


def _create_topic(admin: AdminClient, name: str, validate_only: bool = False) -> KafkaError | None:
    """CreateTopics, which a KRaft broker forwards to the controller with the serialized principal."""
    future = admin.create_topics([NewTopic(name, 1, 1)], validate_only=validate_only, request_timeout=15)[name]
    try:
        future.result()
    except KafkaException as exc:
        error: KafkaError = exc.args[0]
        return error
    return None


def _seconds_until(condition: Callable[[], bool], since: float) -> float:
    """Check `condition` until it holds; the seconds from `since` (a `time.monotonic()`) to then."""
    while not condition():
        assert time.monotonic() - since < 3 * REFUSAL_DEADLINE_S, "the broker did not change its answer"
        time.sleep(0.05)
    return time.monotonic() - since


def _refused(attempt: Callable[[], KafkaError | None], expected: int) -> Callable[[], bool]:
    """A condition: `attempt` fails, and with `expected` (any other failure fails the test)."""

    def refused() -> bool:
        error = attempt()
        assert error is None or error.code() == expected, f"failed with {error}, expected {KafkaError(expected)}"
        return error is not None

    return refused


def _serial_hex(connection: MtlsConnection) -> str:
    return format(x509.load_pem_x509_certificate(connection.certificate_file.read_bytes()).serial_number, "x")


def _identity_of(connection: MtlsConnection) -> str:
    return connection.certificate_file.stem


@pytest.fixture
def topic(shared_broker: RunningBroker, unique_topic: Callable[[str], str]) -> str:
    name = unique_topic("revocation")
    assert create_stream_topic(shared_broker.admin(), name, partitions=1)
    return name


def test_revoked_certificate_is_refused_on_its_open_connection_and_on_new_ones_within_seconds(
    shared_broker: RunningBroker, topic: str, issue_identity: IdentityFactory
) -> None:
    writer = issue_identity()
    create_acls(shared_broker.admin(), producer_bindings(_identity_of(writer), topic))
    counter = ConnectionCounter()
    producer = Producer(_counted(writer, counter, **{"message.timeout.ms": 10000}))
    assert _send(producer, topic) is None
    opened = counter.settled(producer)

    since = time.monotonic()
    shared_broker.ledger.revoke_certificate(_serial_hex(writer))
    elapsed = _seconds_until(_refused(lambda: _send(producer, topic), KafkaError.TOPIC_AUTHORIZATION_FAILED), since)

    assert elapsed < REFUSAL_DEADLINE_S
    assert counter.settled(producer) == opened, "the refusal came on a new connection"
    refused = _send_new(writer, topic)
    assert refused is not None and refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_stolen_admin_certificate_is_refused_within_seconds_while_the_hub_admin_keeps_working(
    shared_broker: RunningBroker, unique_topic: Callable[[str], str], tmp_path: Path
) -> None:
    settings = shared_broker.settings
    stolen = shared_broker.ledger.issue(settings.admin_identity, settings.platform_domain, CertificateKind.CLIENT)
    thief = MtlsConnection(shared_broker.bootstrap_servers, settings.ca_file, *stolen.write(tmp_path / "stolen"))
    counter = ConnectionCounter()
    open_admin = AdminClient(_counted(thief, counter))
    assert _create_topic(open_admin, unique_topic("stolen")) is None  # the admin's ACLs are its name's
    opened = counter.settled(open_admin)

    since = time.monotonic()
    shared_broker.ledger.revoke_certificate(stolen.serial_hex)
    elapsed = _seconds_until(
        _refused(
            lambda: _create_topic(open_admin, unique_topic("stolen"), validate_only=True),
            KafkaError.TOPIC_AUTHORIZATION_FAILED,
        ),
        since,
    )

    assert elapsed < REFUSAL_DEADLINE_S
    assert counter.settled(open_admin) == opened, "the refusal came on a new connection"
    new_admin = AdminClient(thief.client_config())
    refused = _create_topic(new_admin, unique_topic("stolen"))
    assert refused is not None and refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    legitimate = unique_topic("admin")
    assert _create_topic(shared_broker.admin(), legitimate) is None
    assert produce_one(shared_broker.admin_connection, legitimate).delivered


def test_certificate_is_refused_on_its_open_connection_once_it_expires(
    shared_broker: RunningBroker, topic: str, issue_identity: IdentityFactory
) -> None:
    # TLS checks validity only at the handshake; the principal carries notAfter for every request.
    lifetime = CLOCK_SKEW_ALLOWANCE + timedelta(seconds=6)
    writer = issue_identity(lifetime=lifetime, not_before=datetime.now(UTC) - CLOCK_SKEW_ALLOWANCE)
    create_acls(shared_broker.admin(), producer_bindings(_identity_of(writer), topic))
    not_after = x509.load_pem_x509_certificate(writer.certificate_file.read_bytes()).not_valid_after_utc
    counter = ConnectionCounter()
    producer = Producer(_counted(writer, counter, **{"message.timeout.ms": 10000}))
    assert _send(producer, topic) is None
    opened = counter.settled(producer)

    time.sleep(max(0.0, (not_after - datetime.now(UTC)).total_seconds()) + 1)  # X.509 has whole seconds

    error = _send(producer, topic)
    assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert counter.settled(producer) == opened


@pytest.fixture(scope="module")
def open_to_everyone(shared_broker: RunningBroker) -> str:
    """A topic any identity may write (`User:*`), so a refusal can only come from the identity rule."""
    name = f"revocation.open.{time.time_ns()}"
    admin = shared_broker.admin()
    assert create_stream_topic(admin, name, partitions=1)
    create_acls(admin, producer_bindings("*", name))  # principal `User:*`, Kafka's wildcard
    return name


def test_any_identity_may_write_the_open_topic(open_to_everyone: str, issue_identity: IdentityFactory) -> None:
    assert produce_one(issue_identity(), open_to_everyone).delivered


@pytest.mark.parametrize("case", sorted(CRAFTED_SUBJECTS))
def test_certificate_from_the_hub_ca_whose_subject_names_no_identity_gets_no_rights(
    shared_broker: RunningBroker, open_to_everyone: str, unique_topic: Callable[[str], str], tmp_path: Path, case: str
) -> None:
    crafted = craft_certificate(shared_broker.settings.ca_dir, CRAFTED_SUBJECTS[case], tmp_path, case)
    connection = MtlsConnection(
        shared_broker.bootstrap_servers, shared_broker.settings.ca_file, crafted.certificate_file, crafted.key_file
    )

    refused = _send_new(connection, open_to_everyone)
    assert refused is not None and refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    error = _create_topic(AdminClient(connection.client_config()), unique_topic("crafted"))
    assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def _log_lines(log: Path, text: str, timeout_s: float = 5.0) -> list[str]:
    """The lines of `log` holding `text`, once there is one."""
    deadline = time.monotonic() + timeout_s
    while True:
        lines = [line for line in log.read_text(errors="replace").splitlines() if text in line]
        if lines:
            return lines
        assert time.monotonic() < deadline, f"no line with {text!r} in {log} after {timeout_s} s"
        time.sleep(0.1)


@pytest.mark.private_broker
def test_broken_revocation_list_fails_static_and_a_start_without_one_serves_only_the_broker(
    private_broker: RunningBroker,
    unique_topic: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broker, ledger, settings = private_broker.broker, private_broker.ledger, private_broker.settings
    log = broker.log_dir / "server.log"
    topic = unique_topic("stale")
    assert create_stream_topic(private_broker.admin(), topic, partitions=1)
    connections: dict[str, MtlsConnection] = {}
    for role in ("revoked", "kept"):
        issued = ledger.issue(f"{role}-svc", "test", CertificateKind.CLIENT)
        connections[role] = MtlsConnection(
            private_broker.bootstrap_servers, settings.ca_file, *issued.write(tmp_path / "identities")
        )
        create_acls(private_broker.admin(), producer_bindings(issued.identity, topic))
    since = time.monotonic()
    ledger.revoke_certificate(_serial_hex(connections["revoked"]))
    refusal = _refused(lambda: _send_new(connections["revoked"], topic), KafkaError.TOPIC_AUTHORIZATION_FAILED)
    assert _seconds_until(refusal, since) < REFUSAL_DEADLINE_S

    # Fail static: a corrupt file after a good one leaves the good one in force, and says so once.
    ledger.revocation_list_path.write_text("headwater-revocations 1\ngenerated 0\nrevoked 12")
    problem = "cannot be read (java.lang.IllegalArgumentException: missing or wrong end line)"
    (line,) = _log_lines(log, problem)
    assert " ERROR " in line and "still enforcing the list read at" in line and "(1 revoked certificate(s))" in line
    revoked = _send_new(connections["revoked"], topic)
    assert revoked is not None and revoked.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert produce_one(connections["kept"], topic).delivered
    assert _create_topic(private_broker.admin(), unique_topic("stale")) is None
    assert len(_log_lines(log, problem)) == 1  # once per problem, not at every check

    # Fail closed: started while the list is missing, the broker serves its own identity only; the
    # hub admin (ACLs, no super user) and every other identity are refused until a list is readable.
    broker.down()
    ledger.revocation_list_path.unlink()
    with monkeypatch.context() as patched:
        # `up` publishes the list before it starts the broker; here it must not, so that the broker
        # starts without one, as after a lost or hand-edited file.
        patched.setattr(CertificateLedger, "publish_revocations", lambda _self: False)
        broker.up()
    (line,) = _log_lines(log, "none was read since start")
    assert " ERROR " in line and "the file does not exist" in line
    refused = _create_topic(private_broker.admin(), unique_topic("closed"))
    assert refused is not None and refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    kept = _send_new(connections["kept"], topic)
    assert kept is not None and kept.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    as_broker = AdminClient(broker.broker_connection().client_config())
    assert _create_topic(as_broker, unique_topic("closed")) is None

    # A complete list again: everyone is judged by it and the ACLs, within seconds, on both of the
    # node's authorizers (CreateTopics is judged by the controller's, Produce by the broker's).
    since = time.monotonic()
    assert ledger.publish_revocations()

    def both_serve_again() -> bool:
        admin_served = _create_topic(private_broker.admin(), unique_topic("reopened"), validate_only=True) is None
        return admin_served and _send_new(connections["kept"], topic) is None

    assert _seconds_until(both_serve_again, since) < REFUSAL_DEADLINE_S
    revoked = _send_new(connections["revoked"], topic)
    assert revoked is not None and revoked.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
