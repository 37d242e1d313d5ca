"""Talking to a running hub in tests: an HTTPS client as some identity, and the CLI pointed at the hub."""

import os
import subprocess
import uuid

import httpx
from fastapi import FastAPI

from headwater.ledger import open_hub_database
from headwater.local.hub import LocalAdminClients, readiness_checks
from headwater.producers.connection import MtlsConnection, client_ssl_context
from headwater.registry.api.app import create_app
from headwater.registry.streams.kafka_access import KafkaAccess
from tests.conftest import RunningBroker, RunningHub
from tests.integration.test_cli import HEADWATER
from tests.policy_helpers import SHIPPED_POLICIES


def hub_http_client(hub: RunningHub, connection: MtlsConnection) -> httpx.Client:
    """An HTTPS client presenting `connection`'s certificate to the hub."""
    context = client_ssl_context(hub.ca_file, connection.certificate_file, connection.key_file)
    return httpx.Client(base_url=hub.base_url, verify=context, timeout=120)


def hub_application(broker: RunningBroker) -> FastAPI:
    """The hub's application built in-process as `hub_config` builds it, on `broker`'s state folder:
    never served, for reading its routes."""
    settings = broker.settings
    clients = LocalAdminClients(settings)
    kafka = KafkaAccess(admin=clients.current, client_config=clients.config, log_dirs=lambda: [])
    return create_app(
        settings,
        open_hub_database(settings),
        broker.ledger,
        SHIPPED_POLICIES,
        settings.admin_identity,
        readiness_checks(settings),
        kafka,
    )


def run_cli(
    hub: RunningHub, broker: RunningBroker, *arguments: str, identity: MtlsConnection | None = None
) -> subprocess.CompletedProcess[str]:
    """`headwater <arguments>` on the broker's state folder talking to `hub`, as its admin unless `identity`."""
    environment = {**os.environ, "COLUMNS": "250", "HEADWATER_HUB_URL": hub.base_url}
    if identity is not None:
        environment["HEADWATER_IDENTITY_CERT_FILE"] = str(identity.certificate_file)
        environment["HEADWATER_IDENTITY_KEY_FILE"] = str(identity.key_file)
    return subprocess.run(
        [HEADWATER, "--state-dir", str(broker.settings.state_dir), *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def fresh_domain(hub: RunningHub, broker: RunningBroker) -> str:
    """A new domain, created by the hub admin; its name is unique to the test."""
    domain = f"d{uuid.uuid4().hex[:10]}"
    with hub_http_client(hub, broker.admin_connection) as admin:
        created = admin.post(
            "/api/v1/domains", json={"name": domain, "owning_team": "team", "contact": "t@example.com"}
        )
        assert created.status_code == 201, created.text
    return domain
