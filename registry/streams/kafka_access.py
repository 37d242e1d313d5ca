"""How the hub reaches the broker: an admin client factory, and the broker's log folders if visible."""

from dataclasses import dataclass

from headwater.registry.streams.kafka_facts import LogDirs
from headwater.registry.streams.registration import KafkaAdmin
from headwater.registry.streams.topic_scan import ClientConfig


@dataclass(frozen=True)
class KafkaAccess:
    admin: KafkaAdmin
    """An admin client of the broker, as the hub admin identity (a cached one is fine)."""
    client_config: ClientConfig
    """The broker address and TLS settings of the hub admin identity, for the consumers that scan topics."""
    log_dirs: LogDirs
    platform_identities: tuple[str, ...] = ()
    """Identities the platform runs on (the broker's, the hub's): never revoked through the API."""
