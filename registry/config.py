from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from headwater.registry.ca.ledger import LifetimePolicy
from headwater.registry.database import sqlite_url


class RegistrySettings(BaseSettings):
    """Registry settings; every field reads `HEADWATER_<FIELD>` from the environment."""

    model_config = SettingsConfigDict(env_prefix="HEADWATER_", env_nested_delimiter="__", extra="ignore")

    state_dir: Path = Path(".headwater")
    database_url: str | None = None
    """Defaults to a SQLite file in the state folder."""
    trust_domain: str = "headwater.local"
    policy_dir: Path | None = None
    """An organisation's folder of policy YAML files, loaded after the rules shipped with headwater."""
    registration_lease_s: float = 120.0
    """How long a stream registration may go without progress before the reconciler undoes it."""
    fault_injection: str = ""
    """Tests only: `step:fault,...` makes stream registrations fail (`fail`, `fail-after`) or hang at a step."""
    drift_check_interval_s: float = 30.0
    """How often the drift auditor checks certified streams' configuration, ACLs and new records."""
    drift_content_interval_s: float = 3600.0
    """How often it re-scans a certified stream's whole topic against its manifest."""
    platform_domain: str = "platform"
    """The domain of the hub's own identities (admin, broker, hub): never issued or renewed through the API."""
    revocation_list_file: Path | None = None
    """The revocation list the broker enforces; defaults to `revocations.txt` in the CA folder. One list per
    ledger: a hub on another database with the same CA folder (tests) must name its own."""
    renewal_grace_s: float = 120.0
    """How long a certificate replaced by a renewal stays valid: time for its owner to reconnect."""
    max_request_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    """Larger request bodies are refused (413) unread: by their Content-Length, or once read that far."""
    max_manifest_body_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)
    """The limit instead for a backfill's manifest and stale-key reconciliation (about 28 bytes a key, so
    about 9 million keys), sent by the hub admin or an identity of the stream's domain; until manifests
    are uploaded in chunks, they travel as one body."""
    client_certificate_lifetime_h: float = 24.0
    server_certificate_lifetime_h: float = 24.0 * 7

    @property
    def ca_dir(self) -> Path:
        return self.state_dir / "ca"

    @property
    def ca_file(self) -> Path:
        return (self.ca_dir / "ca.crt").resolve()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or sqlite_url(self.state_dir / "hub.db")

    @property
    def fault_plan(self) -> dict[str, str]:
        plan: dict[str, str] = {}
        for item in filter(str.strip, self.fault_injection.split(",")):
            step, separator, fault = item.partition(":")
            if not separator:
                raise ValueError(f"HEADWATER_FAULT_INJECTION item {item!r} is not step:fault")
            plan[step.strip()] = fault.strip()
        return plan

    @property
    def lifetimes(self) -> LifetimePolicy:
        return LifetimePolicy(
            client=timedelta(hours=self.client_certificate_lifetime_h),
            server=timedelta(hours=self.server_certificate_lifetime_h),
        )
