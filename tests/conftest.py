"""Shared fixtures: a real broker per test session (xdist-safe), private brokers, identities, databases.

Under pytest-xdist every worker is its own session. Workers share one broker: the first to call
`LocalBroker.up` starts it (the state folder's lock serialises them) and the others find it running.
The controller process stops it in `pytest_sessionfinish`, after every worker has finished.
"""

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from sqlalchemy import Engine

from headwater.config import LocalSettings
from headwater.ledger import open_ledger
from headwater.local import hub as hub_server
from headwater.local import processes
from headwater.local.broker import LocalBroker
from headwater.local.postgres import PrivatePostgres
from headwater.producers.connection import MtlsConnection
from headwater.registry.ca import CertificateKind, CertificateLedger
from headwater.registry.database import create_database_engine, sqlite_url, upgrade_database

SHARED_BROKER_VARIABLE = "HEADWATER_TEST_SHARED_BROKER_DIR"


def broker_settings(state_dir: Path) -> LocalSettings:
    """Settings for a test broker: ephemeral ports, the shared jar cache; hubs on it audit certified
    streams every 2 s (30 s by default) so drift tests wait seconds, not a minute."""
    return LocalSettings(state_dir=state_dir, kafka_port=0, controller_port=0, drift_check_interval_s=2.0)


def pytest_configure(config: pytest.Config) -> None:
    # The controller picks the shared broker's folder; xdist workers, spawned later, inherit it.
    if not hasattr(config, "workerinput") and SHARED_BROKER_VARIABLE not in os.environ:
        os.environ[SHARED_BROKER_VARIABLE] = tempfile.mkdtemp(prefix="headwater-test-broker-")


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):
        return
    shared = Path(os.environ[SHARED_BROKER_VARIABLE])
    if (shared / "broker").exists():
        LocalBroker(broker_settings(shared)).down()
    shutil.rmtree(shared, ignore_errors=True)


@dataclass(frozen=True)
class RunningBroker:
    broker: LocalBroker
    settings: LocalSettings
    admin_connection: MtlsConnection
    ledger: CertificateLedger

    @property
    def bootstrap_servers(self) -> str:
        return self.admin_connection.bootstrap_servers

    @property
    def port(self) -> int:
        """The mTLS listener's port, for raw TLS handshakes."""
        return int(self.bootstrap_servers.rsplit(":", 1)[1])

    def admin(self) -> AdminClient:
        return AdminClient(self.admin_connection.client_config())


def _running(broker: LocalBroker) -> RunningBroker:
    broker.up()
    return RunningBroker(broker, broker.settings, broker.admin_connection(), open_ledger(broker.settings))


@pytest.fixture(scope="session")
def shared_broker() -> RunningBroker:
    """One broker for the whole run, started through the same code as `headwater local up`."""
    return _running(LocalBroker(broker_settings(Path(os.environ[SHARED_BROKER_VARIABLE]))))


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[RunningBroker]:
    """A broker of this test alone, for tests that stop, restart or reconfigure it."""
    broker = LocalBroker(broker_settings(tmp_path / "state"))
    try:
        yield _running(broker)
    finally:
        broker.down()


@dataclass(frozen=True)
class RunningHub:
    base_url: str
    ca_file: Path


@pytest.fixture(scope="session")
def shared_hub(shared_broker: RunningBroker) -> Iterator[RunningHub]:
    """A hub process per worker, on the shared broker's state folder (its CA, ledger and database)."""
    port = processes.free_port()
    base_url = f"https://127.0.0.1:{port}"
    pid = hub_server.start_background(shared_broker.settings, port)
    try:
        hub_server.wait_until_healthy(shared_broker.settings, pid, base_url, timeout_s=60)
        yield RunningHub(base_url, shared_broker.settings.ca_file)
    finally:
        processes.stop_process(pid)


@pytest.fixture
def unique_topic() -> Callable[[str], str]:
    """Per-test topic names, so tests never see each other's records (also across xdist workers)."""
    return lambda prefix="t": f"{prefix}.{uuid.uuid4().hex[:12]}"


IdentityFactory = Callable[..., MtlsConnection]


@pytest.fixture
def issue_identity(shared_broker: RunningBroker, tmp_path: Path) -> IdentityFactory:
    """Issue a certificate from the hub CA and return the client connection settings that use it."""

    def issue(
        name: str | None = None,
        domain: str = "test",
        lifetime: timedelta | None = None,
        not_before: datetime | None = None,
    ) -> MtlsConnection:
        identity = name or f"svc-{uuid.uuid4().hex[:10]}"
        issued = shared_broker.ledger.issue(identity, domain, CertificateKind.CLIENT, lifetime, not_before)
        certificate_file, key_file = issued.write(tmp_path / "identities")
        return MtlsConnection(
            shared_broker.bootstrap_servers, shared_broker.settings.ca_file, certificate_file, key_file
        )

    return issue


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePostgres]:
    """A private PostgreSQL cluster per worker (own port and folder), stopped at the end."""
    with PrivatePostgres(tmp_path_factory.mktemp("postgres")) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database per test, on each backend the hub supports."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "hub.db")
    server: PrivatePostgres = request.getfixturevalue("postgres_server")
    return server.create_database(f"test_{uuid.uuid4().hex[:16]}")


@pytest.fixture
def migrated_engine(database_url: str) -> Iterator[Engine]:
    """An engine on `database_url`, migrated to the newest schema through Alembic."""
    engine = create_database_engine(database_url)
    upgrade_database(engine)
    yield engine
    engine.dispose()
