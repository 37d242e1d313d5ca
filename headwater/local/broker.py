"""`headwater local up | down | status` for the broker: a single-node KRaft Kafka (broker+controller)
with an mTLS client listener and ACLs, run as a background JVM owned by a state folder.

State folder layout (default `.headwater/`):
    ca/                       the hub CA (shared with the hub)
    hub.db                    the hub database (SQLite default), holds the CA ledger
    identities/               admin and broker certificates and keys
    broker/broker.json        cluster id and ports, fixed when the storage is formatted
    broker/broker.pid         pid of the running broker
    broker/*.properties       generated configuration
    broker/data/              Kafka log directory
    broker/logs/              server.log (log4j) and jvm.out (stdout/stderr)
"""

import base64
import fcntl
import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourcePatternType,
    ResourceType,
)

from headwater.config import LocalSettings
from headwater.ledger import open_ledger
from headwater.local import processes
from headwater.local.broker_config import (
    NETWORK_THREADS,
    NODE_ID,
    BrokerLayout,
    render_log4j2_properties,
    render_server_properties,
)
from headwater.local.broker_plugins import ensure_broker_plugins
from headwater.local.broker_tls import (
    CertificateFiles,
    ensure_identity_files,
    ensure_internal_controller_keystore,
    needs_renewal,
    served_certificate,
    write_keystore,
)
from headwater.local.errors import LocalStackError
from headwater.local.java import find_java
from headwater.local.kafka_jars import ensure_kafka_jars
from headwater.producers.connection import MtlsConnection
from headwater.registry.ca import CertificateKind, CertificateLedger, IssuedCertificate
from headwater.registry.kafka_acls import AclChangeError, create_acls, principal

Report = Callable[[str], None]
_PURGE_HINT = "run `headwater local down --purge` to start the broker afresh (its topics are lost)"


@dataclass(frozen=True)
class BrokerState:
    """What formatting fixed for this state folder: the cluster id and the ports."""

    cluster_id: str
    kafka_port: int
    controller_port: int
    kafka_version: str


@dataclass(frozen=True)
class BrokerStatus:
    state_dir: Path
    bootstrap_servers: str | None
    cluster_id: str | None
    pid: int | None
    answering: bool
    started_now: bool = False
    elapsed_s: float = 0.0


class LocalBroker:
    def __init__(self, settings: LocalSettings) -> None:
        self.settings = settings
        self.state_dir = settings.state_dir.resolve()
        self.broker_dir = self.state_dir / "broker"
        self.identities_dir = self.state_dir / "identities"

    # -- paths ---------------------------------------------------------------------------------
    @property
    def pid_file(self) -> Path:
        return self.broker_dir / "broker.pid"

    @property
    def state_file(self) -> Path:
        return self.broker_dir / "broker.json"

    @property
    def server_properties(self) -> Path:
        return self.broker_dir / "server.properties"

    @property
    def data_dir(self) -> Path:
        return self.broker_dir / "data"

    @property
    def log_dir(self) -> Path:
        return self.broker_dir / "logs"

    def identity_files(self, identity: str) -> CertificateFiles:
        return CertificateFiles.of_identity(self.identities_dir, identity)

    def admin_files(self) -> CertificateFiles:
        return self.identity_files(self.settings.admin_identity)

    def admin_connection(self) -> MtlsConnection:
        """As the hub admin: ALLOW ALL through ACLs (`hub_admin_bindings`), not a super user."""
        return self._connection_of(self.settings.admin_identity)

    def broker_connection(self) -> MtlsConnection:
        """As the broker identity, the one super user (its server certificate also authenticates clients)."""
        return self._connection_of(self.settings.broker_identity)

    def _connection_of(self, identity: str) -> MtlsConnection:
        state = self.read_state()
        if state is None:
            raise LocalStackError(f"No broker in {self.state_dir}; run `headwater local up` first.")
        files = self.identity_files(identity)
        return MtlsConnection(f"localhost:{state.kafka_port}", self.settings.ca_file, files.certificate, files.key)

    # -- commands ------------------------------------------------------------------------------
    def up(self, report: Report = lambda _: None) -> BrokerStatus:
        """Start the broker unless it runs already; renew certificates that near expiry."""
        started = time.monotonic()
        java = find_java()
        lib_dir = ensure_kafka_jars(self.settings.cache_dir, self.settings.kafka_version, report)
        with self._lock():
            ledger = open_ledger(self.settings)
            pid = self._running_pid(report)
            state = self.read_state() or self._new_state()
            self._ensure_certificates(ledger, running=pid is not None, report=report)
            # The broker's authorizer serves only super users until it has read a complete list.
            ledger.publish_revocations()
            started_now = pid is None
            if pid is None:
                plugins_dir = ensure_broker_plugins(self.settings.cache_dir, self.settings.kafka_version, lib_dir)
                classpath = f"{lib_dir}/*:{plugins_dir}"
                self._check_ports_free(state)
                self._write_configuration(state, ledger.revocation_list_path)
                self._format_storage(java, classpath, state, report)
                report("Starting the broker")
                pid = self._launch(java, classpath)
                self._wait_until_answering(pid, state, report)
            # Also when it runs already: a start that failed after launching left them missing.
            self._grant_hub_admin()
            return self._status(state, pid, started_now=started_now, elapsed_s=time.monotonic() - started)

    def down(self, purge: bool = False) -> str:
        """Stop the broker this state folder started (only that process); `purge` drops its data."""
        with self._lock():
            pid = processes.read_pid(self.pid_file)
            if pid is not None and self._is_our_broker(pid):
                processes.stop_process(pid)
                message = f"Stopped the broker (pid {pid})."
            elif pid is not None:
                message = f"The broker was not running; removed the stale pid file (pid {pid})."
            else:
                message = "The broker was not running."
            self.pid_file.unlink(missing_ok=True)
            if purge:
                shutil.rmtree(self.data_dir, ignore_errors=True)
                self.state_file.unlink(missing_ok=True)
                message += f" Removed its data in {self.data_dir}."
            return message

    def status(self) -> BrokerStatus:
        state = self.read_state()
        if state is None:
            return BrokerStatus(self.state_dir, None, None, None, answering=False)
        pid = processes.read_pid(self.pid_file)
        running = pid if pid is not None and self._is_our_broker(pid) else None
        return self._status(state, running, started_now=False, elapsed_s=0.0)

    def rotate_certificate(self, ledger: CertificateLedger | None = None) -> IssuedCertificate:
        """Issue a new broker certificate and load it into the running broker's client listener.

        The keystore is written under a new file name and the listener is pointed at it through a
        dynamic broker config: new connections get the new certificate, open ones keep theirs."""
        if self.status().pid is None:
            raise LocalStackError(
                f"No broker runs in {self.state_dir}; `headwater local up` starts it with a fresh certificate."
            )
        ledger = ledger or open_ledger(self.settings)
        issued = ledger.issue(self.settings.broker_identity, self.settings.platform_domain, CertificateKind.SERVER)
        issued.write(self.identities_dir)
        keystore = self._install_keystore(issued)
        admin = AdminClient(self.admin_connection().client_config())
        resource = ConfigResource(
            ResourceType.BROKER,
            str(NODE_ID),
            incremental_configs=[
                ConfigEntry(
                    "listener.name.ssl.ssl.keystore.location",
                    str(keystore),
                    incremental_operation=AlterConfigOpType.SET,
                )
            ],
        )
        for future in admin.incremental_alter_configs([resource]).values():
            try:
                future.result(timeout=30)
            except KafkaException as exc:
                raise LocalStackError(f"The broker refused its new certificate: {exc.args[0].str()}") from exc
        state = self._require_state()
        self._write_configuration(state, ledger.revocation_list_path)
        self._wait_until_served(state, issued)
        return issued

    def _wait_until_served(self, state: BrokerState, issued: IssuedCertificate, timeout_s: float = 30.0) -> None:
        """The broker applies the new keystore asynchronously after acknowledging the change, one
        network processor at a time, and spreads new connections over its processors round-robin:
        only consecutive fresh handshakes that all present the new certificate prove it took effect."""
        required = 2 * NETWORK_THREADS + 1
        consecutive = 0
        deadline = time.monotonic() + timeout_s
        while consecutive < required:
            served = served_certificate(state.kafka_port, self.admin_connection()).serial_number
            consecutive = consecutive + 1 if served == issued.serial else 0
            if time.monotonic() > deadline:
                raise LocalStackError(
                    f"The broker accepted certificate {issued.serial_hex} but still serves the old one "
                    f"after {timeout_s:.0f} s; see {self.log_dir / 'server.log'}."
                )
            time.sleep(0.2)

    # -- steps ---------------------------------------------------------------------------------
    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.broker_dir.mkdir(parents=True, exist_ok=True)
        with open(self.broker_dir / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _running_pid(self, report: Report) -> int | None:
        pid = processes.read_pid(self.pid_file)
        if pid is None:
            if self.pid_file.exists():
                report("Removed an unreadable pid file")
                self.pid_file.unlink()
            return None
        if self._is_our_broker(pid):
            return pid
        report(f"Removed a stale pid file (process {pid} is not this folder's broker)")
        self.pid_file.unlink()
        return None

    def _is_our_broker(self, pid: int) -> bool:
        return processes.is_alive(pid) and str(self.server_properties) in processes.command_line(pid)

    def read_state(self) -> BrokerState | None:
        """What formatting fixed for this folder, or None before the first `up`."""
        if not self.state_file.exists():
            return None
        try:
            return BrokerState(**json.loads(self.state_file.read_text()))
        except (ValueError, TypeError) as exc:
            raise LocalStackError(f"{self.state_file} is corrupt ({exc}); {_PURGE_HINT}.") from exc

    def _require_state(self) -> BrokerState:
        state = self.read_state()
        if state is None:
            raise LocalStackError(f"No broker in {self.state_dir}; run `headwater local up` first.")
        return state

    def _new_state(self) -> BrokerState:
        if (self.data_dir / "meta.properties").exists():
            raise LocalStackError(
                f"{self.data_dir} holds formatted Kafka storage but {self.state_file} is missing; {_PURGE_HINT}."
            )
        state = BrokerState(
            cluster_id=_new_cluster_id(),
            kafka_port=self.settings.kafka_port or processes.free_port(),
            controller_port=self.settings.controller_port or processes.free_port(),
            kafka_version=self.settings.kafka_version,
        )
        self.state_file.write_text(json.dumps(asdict(state), indent=2) + "\n")
        return state

    def _check_ports_free(self, state: BrokerState) -> None:
        remedy = (
            "stop the process that holds it, or use another port: "
            "`headwater local down --purge` then `headwater local up --kafka-port N --controller-port M`."
        )
        processes.require_free_port(state.kafka_port, "Kafka client listener", remedy)
        processes.require_free_port(state.controller_port, "Kafka controller listener", remedy)

    def _ensure_certificates(self, ledger: CertificateLedger, running: bool, report: Report) -> None:
        settings = self.settings
        _, admin_issued = ensure_identity_files(
            ledger, self.identities_dir, settings.admin_identity, settings.platform_domain, CertificateKind.CLIENT
        )
        if admin_issued:
            report(f"Issued the admin certificate (serial {admin_issued.serial_hex})")
        if needs_renewal(self.identity_files(settings.broker_identity), ledger.authority, datetime.now(UTC)):
            if running:
                issued = self.rotate_certificate(ledger)
            else:
                issued = ledger.issue(settings.broker_identity, settings.platform_domain, CertificateKind.SERVER)
                issued.write(self.identities_dir)
                self._install_keystore(issued)
            report(f"Issued the broker certificate (serial {issued.serial_hex})")
        ensure_internal_controller_keystore(self.broker_dir, settings.broker_identity)

    def _install_keystore(self, issued: IssuedCertificate) -> Path:
        keystore = self.broker_dir / f"keystore-{issued.serial_hex}.pem"
        write_keystore(keystore, issued.certificate_pem, issued.private_key_pem)
        (self.broker_dir / "keystore.current").write_text(keystore.name + "\n")
        for old in self.broker_dir.glob("keystore-*.pem"):
            if old != keystore:
                old.unlink()
        return keystore

    def _current_keystore(self) -> Path:
        pointer = self.broker_dir / "keystore.current"
        keystore = self.broker_dir / pointer.read_text().strip() if pointer.is_file() else None
        if keystore is None or not keystore.is_file():
            raise LocalStackError(f"The broker keystore in {self.broker_dir} is missing; {_PURGE_HINT}.")
        return keystore

    def _write_configuration(self, state: BrokerState, revocation_list: Path) -> None:
        layout = BrokerLayout(
            kafka_port=state.kafka_port,
            controller_port=state.controller_port,
            data_dir=self.data_dir,
            log_dir=self.log_dir,
            keystore=self._current_keystore(),
            truststore=self.settings.ca_file,
            controller_keystore=self.broker_dir / "controller-keystore.pem",
            controller_truststore=self.broker_dir / "internal-ca" / "ca.crt",
            revocation_list=revocation_list,
            # Only the broker itself: the hub admin gets revocable ACLs instead (`_grant_hub_admin`).
            super_users=(self.settings.broker_identity,),
        )
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.server_properties.write_text(render_server_properties(layout))
        (self.broker_dir / "log4j2.properties").write_text(render_log4j2_properties(self.log_dir))

    def _java_command(self, java: Path, classpath: str, main_class: str, heap_mb: int) -> list[str]:
        return [
            str(java),
            f"-Xms{heap_mb}m",
            f"-Xmx{heap_mb}m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExplicitGCInvokesConcurrent",
            "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={self.log_dir}",
            f"-Dlog4j2.configurationFile={self.broker_dir / 'log4j2.properties'}",
            "-cp",
            classpath,
            main_class,
        ]

    def _format_storage(self, java: Path, classpath: str, state: BrokerState, report: Report) -> None:
        meta = self.data_dir / "meta.properties"
        if meta.exists():
            if f"cluster.id={state.cluster_id}" not in meta.read_text():
                raise LocalStackError(f"{meta} belongs to another cluster than {self.state_file}; {_PURGE_HINT}.")
            return
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise LocalStackError(f"{self.data_dir} holds data but no meta.properties; {_PURGE_HINT}.")
        report("Formatting KRaft storage")
        # The plugins are on its classpath too: it validates server.properties, class names included.
        command = self._java_command(java, classpath, "kafka.tools.StorageTool", heap_mb=256) + [
            "format",
            "--standalone",
            "--cluster-id",
            state.cluster_id,
            "--config",
            str(self.server_properties),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise LocalStackError(
                f"Formatting Kafka storage failed: {_summarise_java_output(result.stdout + result.stderr)}"
            )

    def _launch(self, java: Path, classpath: str) -> int:
        command = self._java_command(java, classpath, "kafka.Kafka", self.settings.broker_heap_mb)
        command.append(str(self.server_properties))
        with open(self.log_dir / "jvm.out", "ab") as output:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        self.pid_file.write_text(f"{process.pid}\n")
        return process.pid

    def _wait_until_answering(self, pid: int, state: BrokerState, report: Report) -> None:
        report("Waiting for the broker to answer over mTLS")
        deadline = time.monotonic() + self.settings.startup_timeout_s
        while time.monotonic() < deadline:
            if not processes.is_alive(pid):
                self.pid_file.unlink(missing_ok=True)
                raise LocalStackError(
                    f"The broker exited during start-up: {self._startup_failure()} (logs: {self.log_dir})."
                )
            if self._answers(state, timeout_s=2.0):
                return
            time.sleep(0.2)
        processes.stop_process(pid)
        self.pid_file.unlink(missing_ok=True)
        raise LocalStackError(
            f"The broker did not answer within {self.settings.startup_timeout_s:.0f} s and was stopped; "
            f"see {self.log_dir / 'server.log'}."
        )

    def _answers(self, state: BrokerState, timeout_s: float) -> bool:
        # As the broker identity: it is served even before the revocation list is read, and whatever
        # happened to the hub admin's certificate or ACLs.
        admin = AdminClient(self.broker_connection().client_config())
        try:
            metadata = admin.list_topics(timeout=timeout_s)
        except KafkaException:
            return False
        return metadata.cluster_id == state.cluster_id

    def _grant_hub_admin(self) -> None:
        """Give the hub admin every right through ACLs, as the broker identity (the one super user).

        Super users skip ACLs; explicit grants can be listed and removed like anyone's, and the
        authorizer refuses a revoked admin certificate either way. Granting existing ones is a no-op."""
        admin = AdminClient(self.broker_connection().client_config())
        try:
            create_acls(admin, hub_admin_bindings(self.settings.admin_identity))
        except AclChangeError as exc:
            raise LocalStackError(f"{exc} See {self.log_dir / 'server.log'}.") from exc

    def _startup_failure(self) -> str:
        lines: list[str] = []
        for name in ("server.log", "jvm.out"):
            path = self.log_dir / name
            if path.is_file():
                lines += path.read_text(errors="replace").splitlines()
        return _summarise_java_output("\n".join(lines))

    def _status(self, state: BrokerState, pid: int | None, started_now: bool, elapsed_s: float) -> BrokerStatus:
        return BrokerStatus(
            state_dir=self.state_dir,
            bootstrap_servers=f"localhost:{state.kafka_port}",
            cluster_id=state.cluster_id,
            pid=pid,
            answering=pid is not None and self._answers(state, timeout_s=5.0),
            started_now=started_now,
            elapsed_s=elapsed_s,
        )


def hub_admin_bindings(identity: str) -> list[AclBinding]:
    """ALLOW ALL on the cluster and on every topic, group and transactional id (literal `*` matches all)."""
    resources = [
        (ResourceType.BROKER, "kafka-cluster"),  # confluent-kafka's name for Kafka's CLUSTER resource
        (ResourceType.TOPIC, "*"),
        (ResourceType.GROUP, "*"),
        (ResourceType.TRANSACTIONAL_ID, "*"),
    ]
    return [
        AclBinding(
            resource,
            name,
            ResourcePatternType.LITERAL,
            principal(identity),
            "*",
            AclOperation.ALL,
            AclPermissionType.ALLOW,
        )
        for resource, name in resources
    ]


def _new_cluster_id() -> str:
    """A Kafka `Uuid` string: URL-safe base64 of 16 random bytes, never starting with '-'."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def _summarise_java_output(output: str) -> str:
    """One line out of a JVM's log: the first error and its root cause, not the stack trace."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if " ERROR " in line or line.startswith("ERROR")]
    causes = [line for line in lines if line.startswith("Caused by:") or "Exception:" in line]
    picked = [*errors[:1], *causes[-1:]]
    if not picked:
        return lines[-1] if lines else "no output"
    return " | ".join(dict.fromkeys(picked))
