"""The CLI's HTTPS client for the hub: mTLS with the configured identity, errors as one clear line.

By default it talks to this state folder's local hub as the local admin identity; set
`HEADWATER_HUB_URL`, `HEADWATER_IDENTITY_CERT_FILE` and `HEADWATER_IDENTITY_KEY_FILE` to act as
another identity or against another hub."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from headwater.config import LocalSettings
from headwater.local.broker import LocalBroker
from headwater.local.stack import LocalStack
from headwater.producers.connection import HubConnection, MtlsConnection
from headwater.producers.hub import DEFAULT_TIMEOUT_S, HubClient, open_hub
from headwater.registry.errors import RegistryError


class HubIdentityMissingError(RegistryError):
    def __init__(self, missing: str) -> None:
        super().__init__(
            f"No client certificate for the hub: {missing} does not exist. Run `headwater local up`, or set "
            "HEADWATER_IDENTITY_CERT_FILE and HEADWATER_IDENTITY_KEY_FILE to an identity's files."
        )


def hub_connection(settings: LocalSettings) -> HubConnection:
    url = settings.hub_url or LocalStack(settings).hub_url()
    admin = LocalBroker(settings).admin_files()
    certificate = settings.identity_cert_file or admin.certificate
    key = settings.identity_key_file or admin.key
    for path in (settings.ca_file, certificate, key):
        if not path.is_file():
            raise HubIdentityMissingError(str(path))
    return HubConnection(url, settings.ca_file, certificate, key)


def kafka_connection(settings: LocalSettings, hub: HubConnection) -> MtlsConnection:
    """The broker, as the identity `hub` uses (producers renew the files they share)."""
    bootstrap = settings.kafka_bootstrap_servers or LocalBroker(settings).admin_connection().bootstrap_servers
    return MtlsConnection(bootstrap, hub.ca_file, hub.certificate_file, hub.key_file)


@contextmanager
def hub_client(settings: LocalSettings, timeout_s: float = DEFAULT_TIMEOUT_S) -> Iterator[HubClient]:
    with open_hub(hub_connection(settings), timeout_s) as client:
        yield client
