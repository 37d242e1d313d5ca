from pathlib import Path

from headwater.registry.config import RegistrySettings


class LocalSettings(RegistrySettings):
    """Settings of the local stack (`headwater local ...`); adds to the registry settings."""

    cache_dir: Path = Path.home() / ".cache" / "headwater"
    kafka_version: str = "4.4.0"
    kafka_port: int = 9094
    controller_port: int = 9095
    hub_port: int = 8443
    broker_heap_mb: int = 512
    broker_identity: str = "headwater-broker"
    admin_identity: str = "headwater-admin"
    startup_timeout_s: float = 90.0
    hub_url: str | None = None
    """The hub the CLI talks to; defaults to this state folder's local hub."""
    identity_cert_file: Path | None = None
    """The CLI's client certificate for the hub; defaults to the local admin identity's."""
    identity_key_file: Path | None = None
    kafka_bootstrap_servers: str | None = None
    """The broker producers connect to (with the identity files above); defaults to the local broker."""
