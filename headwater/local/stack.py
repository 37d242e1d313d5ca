"""The whole local stack of a state folder: the broker, then the hub next to it, and `local.env`.

Files added to the state folder:
    hub/hub.json     the hub's port, chosen at the first `up` and kept
    hub/hub.pid      pid of the running hub
    local.env        KEY=VALUE lines for clients and scripts
"""

import json
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from headwater.config import LocalSettings
from headwater.local import hub as hub_server
from headwater.local import processes
from headwater.local.broker import BrokerStatus, LocalBroker, Report
from headwater.local.broker_tls import CertificateFiles, needs_renewal
from headwater.local.errors import LocalStackError
from headwater.registry.ca import CertificateAuthority
from headwater.registry.governance.gate import PolicyGate


@dataclass(frozen=True)
class StackStatus:
    broker: BrokerStatus
    hub_url: str | None
    hub_pid: int | None
    hub_healthy: bool


class LocalStack:
    def __init__(self, settings: LocalSettings) -> None:
        self.settings = settings
        self.broker = LocalBroker(settings)
        self.hub_dir = self.broker.state_dir / "hub"

    @property
    def env_file(self) -> Path:
        return self.broker.state_dir / "local.env"

    @property
    def hub_pid_file(self) -> Path:
        return self.hub_dir / "hub.pid"

    def up(self, report: Report = lambda _: None) -> StackStatus:
        """Start the broker and the hub unless they run; both are checked either way.

        The policy files are loaded first: a broken one is reported with file and line before anything
        starts (a running hub keeps the rules it loaded; restart it to load changed files)."""
        PolicyGate.from_settings(self.settings)
        broker = self.broker.up(report)
        port = self._hub_port()
        url = f"https://127.0.0.1:{port}"
        pid = self._running_hub_pid()
        if pid is not None and self._hub_certificate_needs_renewal():
            # uvicorn loads the server certificate once, at start: only a restart renews it.
            report("Restarting the hub: its server certificate nears expiry")
            processes.stop_process(pid)
            pid = None
        if pid is None:
            report(f"Starting the hub on {url}")
            processes.require_free_port(port, "hub", "stop the process that holds it, or set HEADWATER_HUB_PORT.")
            pid = hub_server.start_background(self.settings, port)
            self.hub_pid_file.write_text(f"{pid}\n")
        hub_server.wait_until_healthy(self.settings, pid, url, timeout_s=self.settings.startup_timeout_s)
        self._write_env_file(broker, url)
        return StackStatus(broker, url, pid, hub_healthy=True)

    def down(self, purge: bool = False) -> str:
        pid = self._running_hub_pid()
        hub_message = "The hub was not running."
        if pid is not None:
            processes.stop_process(pid)
            hub_message = f"Stopped the hub (pid {pid})."
        self.hub_pid_file.unlink(missing_ok=True)
        return f"{hub_message} {self.broker.down(purge)}"

    def status(self) -> StackStatus:
        broker = self.broker.status()
        pid = self._running_hub_pid()
        port = self._stored_hub_port()
        url = f"https://127.0.0.1:{port}" if port else None
        healthy = False
        if pid is not None and url is not None:
            try:
                hub_server.wait_until_healthy(self.settings, pid, url, timeout_s=3.0, stop_on_timeout=False)
                healthy = True
            except LocalStackError:
                healthy = False
        return StackStatus(broker, url, pid, healthy)

    def _hub_certificate_needs_renewal(self) -> bool:
        files = CertificateFiles.of_identity(self.broker.identities_dir, hub_server.HUB_IDENTITY)
        return needs_renewal(files, CertificateAuthority.load(self.settings.ca_dir), datetime.now(UTC))

    def _running_hub_pid(self) -> int | None:
        pid = processes.read_pid(self.hub_pid_file)
        if pid is None:
            return None
        command = processes.command_line(pid)
        ours = processes.is_alive(pid) and "serve" in command and str(self.broker.state_dir) in command
        return pid if ours else None

    def hub_url(self) -> str:
        """Where this state folder's hub listens (or will): the port `local up` chose, else the setting."""
        return f"https://127.0.0.1:{self._stored_hub_port() or self.settings.hub_port}"

    def _stored_hub_port(self) -> int | None:
        state = self.hub_dir / "hub.json"
        if not state.is_file():
            return None
        try:
            return int(json.loads(state.read_text())["port"])
        except (ValueError, KeyError, TypeError) as exc:
            raise LocalStackError(f"{state} is corrupt ({exc}); delete it and run `headwater local up`.") from exc

    def _hub_port(self) -> int:
        port = self._stored_hub_port()
        if port is None:
            port = self.settings.hub_port or processes.free_port()
            self.hub_dir.mkdir(parents=True, exist_ok=True)
            (self.hub_dir / "hub.json").write_text(json.dumps({"port": port}) + "\n")
        return port

    def _write_env_file(self, broker: BrokerStatus, hub_url: str) -> None:
        admin = self.broker.admin_files()
        values = {
            "HEADWATER_STATE_DIR": self.broker.state_dir,
            "HEADWATER_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "HEADWATER_CA_FILE": self.settings.ca_file,
            "HEADWATER_ADMIN_CERT_FILE": admin.certificate,
            "HEADWATER_ADMIN_KEY_FILE": admin.key,
            "HEADWATER_HUB_URL": hub_url,
        }
        self.env_file.write_text("".join(f"{key}={shlex.quote(str(value))}\n" for key, value in values.items()))
