"""Run the hub: uvicorn over HTTPS, demanding a client certificate from the hub CA on every connection.

`serve` runs it in the foreground (`headwater hub serve`); `start_background` starts that same command
as a detached process of the state folder, and `wait_until_healthy` waits until it answers.

Files in the state folder:
    identities/headwater-hub.crt|.key   the hub's server certificate, issued or renewed at start
    hub/.lock                           serialises that issuance between hubs started together
    hub/logs/hub.out                    output of a background hub
"""

import fcntl
import logging
import os
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from headwater.config import LocalSettings
from headwater.ledger import open_hub_database, open_ledger
from headwater.local import processes
from headwater.local.broker import LocalBroker, Report
from headwater.local.broker_tls import CertificateFiles, ensure_identity_files
from headwater.local.errors import LocalStackError
from headwater.producers.connection import client_ssl_context
from headwater.registry.api.app import create_app
from headwater.registry.api.deps import Readiness
from headwater.registry.api.prefix import API_PREFIX
from headwater.registry.api.tls import ClientCertificateH11Protocol
from headwater.registry.ca import CertificateKind, CertificateLedger
from headwater.registry.database import create_database_engine
from headwater.registry.governance.gate import PolicyGate
from headwater.registry.streams.kafka_access import KafkaAccess

logger = logging.getLogger(__name__)

HUB_IDENTITY = "headwater-hub"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8443
_BROKER_CHECK_TIMEOUT_S = 2.0
KEEP_ALIVE_TIMEOUT_S = 75
"""Longer than clients keep idle connections (httpx 5 s), as proxies do, so the client closes first."""


def serve(
    settings: LocalSettings, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, report: Report = lambda _: None
) -> None:
    """Serve the hub in the foreground until interrupted (SIGINT or SIGTERM)."""
    config = hub_config(settings, host, port, report)
    report(f"Serving the hub on https://{host}:{port} to clients with certificates from {settings.ca_file}")
    uvicorn.Server(config).run()


def hub_config(
    settings: LocalSettings, host: str, port: int, report: Report = lambda _: None, gate: PolicyGate | None = None
) -> uvicorn.Config:
    """The uvicorn configuration of the hub; migrates the database and renews the server certificate.

    `gate` defaults to the policies the settings name (benchmarks pass one without rules as a baseline)."""
    # Policies first: a broken policy file stops the hub before it touches the database or certificates.
    gate = gate or PolicyGate.from_settings(settings)
    report(f"Loaded {len(gate.policy_set.rules)} policy rules")
    sessions = open_hub_database(settings)
    ledger = open_ledger(settings, create_authority=False, sessions=sessions)
    server_files = ensure_server_certificate(settings, ledger, report)
    clients = LocalAdminClients(settings)
    kafka = KafkaAccess(
        admin=clients.current,
        client_config=clients.config,
        log_dirs=lambda: [LocalBroker(settings).data_dir],
        platform_identities=(settings.broker_identity, HUB_IDENTITY),
    )
    app = create_app(settings, sessions, ledger, gate, settings.admin_identity, readiness_checks(settings), kafka)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=ClientCertificateH11Protocol,
        # A WebSocket upgrade would reach the app without the TLS extension; the hub has no WebSockets.
        ws="none",
        ssl_certfile=server_files.certificate,
        ssl_keyfile=server_files.key,
        ssl_ca_certs=settings.ca_file,
        ssl_cert_reqs=ssl.CERT_REQUIRED,
        # uvicorn's default (5 s) equals httpx's pool expiry: a client reusing a connection just as the
        # hub closes it gets an EOF on a POST it cannot retry (seen with schemathesis under load).
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT_S,
    )


def ensure_server_certificate(
    settings: LocalSettings, ledger: CertificateLedger, report: Report = lambda _: None
) -> CertificateFiles:
    """Issue the hub's server certificate when it is missing or nears expiry.

    uvicorn loads it once at start: a hub running longer than two thirds of the server certificate
    lifetime must be restarted to renew it."""
    with _hub_lock(settings):
        files, issued = ensure_identity_files(
            ledger, LocalBroker(settings).identities_dir, HUB_IDENTITY, settings.platform_domain, CertificateKind.SERVER
        )
    if issued is not None:
        report(f"Issued the hub certificate (serial {issued.serial_hex})")
    return files


class LocalAdminClients:
    """One admin client of the local broker, replaced when `headwater local up` renews the admin certificate
    (librdkafka reads certificate files once, when a client is created)."""

    def __init__(self, settings: LocalSettings) -> None:
        self._broker = LocalBroker(settings)
        self._lock = threading.Lock()
        self._client: AdminClient | None = None
        self._certificate_mtime: float | None = None

    def current(self) -> AdminClient:
        with self._lock:
            mtime = self._broker.admin_files().certificate.stat().st_mtime
            if self._client is None or mtime != self._certificate_mtime:
                self._client = AdminClient(self.config())
                self._certificate_mtime = mtime
            return self._client

    def config(self) -> dict[str, object]:
        """The admin's client settings, from the certificate files as they are now."""
        return self._broker.admin_connection().client_config()


def readiness_checks(settings: LocalSettings) -> Readiness:
    engine = create_database_engine(settings.resolved_database_url)
    broker = LocalBroker(settings)
    return lambda: {"database": _database_answers(engine), "broker": _broker_answers(broker)}


def _database_answers(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        logger.warning("hub database check failed", extra={"error": str(exc)})
        return False
    return True


def _broker_answers(broker: LocalBroker) -> bool:
    try:
        # A fresh client each time: `headwater local up` may have renewed the admin certificate files.
        admin = AdminClient(broker.admin_connection().client_config())
        admin.list_topics(timeout=_BROKER_CHECK_TIMEOUT_S)
    except (KafkaException, LocalStackError) as exc:
        logger.warning("hub broker check failed", extra={"error": str(exc)})
        return False
    return True


def start_background(settings: LocalSettings, port: int, host: str = DEFAULT_HOST) -> int:
    """Start `headwater hub serve` as a detached process with these settings; returns its pid."""
    log_file = background_log_file(settings)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-c", "from headwater.cli import main; main()"]
    # --state-dir on the command line lets `headwater local down` recognise this folder's hub by pid.
    command += ["--state-dir", str(settings.state_dir.resolve()), "hub", "serve", "--host", host, "--port", str(port)]
    with open(log_file, "ab") as output:
        process = subprocess.Popen(
            command,
            # The child builds its settings from the environment, as every headwater command does.
            env={**os.environ, **_settings_environment(settings)},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    return process.pid


def wait_until_healthy(
    settings: LocalSettings, pid: int, base_url: str, timeout_s: float = 30.0, stop_on_timeout: bool = True
) -> None:
    """Wait until the hub at `base_url` (https://host:port) answers its health check with 200, asking
    as the admin identity; stops it and raises when it exits or stays unhealthy."""
    admin = LocalBroker(settings).admin_files()
    context = client_ssl_context(settings.ca_file, admin.certificate, admin.key)
    with httpx.Client(base_url=base_url, verify=context, timeout=5.0) as client:
        failure = wait_for_answer(client, pid, f"{API_PREFIX}/health", timeout_s)
    if failure is None:
        return
    if failure.exited:
        raise LocalStackError(f"The hub exited during start-up; see {background_log_file(settings)}.")
    if stop_on_timeout:
        processes.stop_process(pid)
    stopped = " and was stopped" if stop_on_timeout else ""
    raise LocalStackError(
        f"The hub was not healthy within {timeout_s:.0f} s{stopped} ({failure.last_answer}); "
        f"see {background_log_file(settings)}."
    )


@dataclass(frozen=True)
class NoAnswer:
    """Why a hub did not answer: its process exited, or `last_answer` was all it said until the deadline."""

    exited: bool
    last_answer: str


def wait_for_answer(client: httpx.Client, pid: int, path: str, timeout_s: float) -> NoAnswer | None:
    """Ask `path` until it answers 200 (None), hub process `pid` exits, or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    last_answer = "no answer yet"
    while processes.is_alive(pid):
        try:
            response = client.get(path)
            if response.status_code == httpx.codes.OK:
                return None
            last_answer = f"HTTP {response.status_code} {response.text}"
        except httpx.TransportError as exc:
            last_answer = f"{type(exc).__name__}: {exc}"
        if time.monotonic() > deadline:
            return NoAnswer(exited=False, last_answer=last_answer)
        time.sleep(0.2)
    return NoAnswer(exited=True, last_answer=last_answer)


def background_log_file(settings: LocalSettings) -> Path:
    return _hub_dir(settings) / "logs" / "hub.out"


def _settings_environment(settings: LocalSettings) -> dict[str, str]:
    prefix = settings.model_config.get("env_prefix", "")
    values = settings.model_dump(exclude_none=True) | {"state_dir": settings.state_dir.resolve()}
    return {f"{prefix}{name}".upper(): str(value) for name, value in values.items()}


def _hub_dir(settings: LocalSettings) -> Path:
    return settings.state_dir.resolve() / "hub"


@contextmanager
def _hub_lock(settings: LocalSettings) -> Iterator[None]:
    _hub_dir(settings).mkdir(parents=True, exist_ok=True)
    with open(_hub_dir(settings) / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
