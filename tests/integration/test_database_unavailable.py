"""A hub whose PostgreSQL server stops: every request gets 503 saying the database does not answer,
neither a 500 (a bug) nor a 422 (the caller's fault)."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from headwater.ledger import open_ledger
from headwater.local import hub as hub_server
from headwater.local import processes
from headwater.local.postgres import PrivatePostgres
from headwater.producers.connection import client_ssl_context
from tests.conftest import RunningBroker

DATABASE_UNAVAILABLE = {"status_code": 503, "error_code": 50301}


@dataclass(frozen=True)
class HubOnItsOwnDatabase:
    client: httpx.Client
    database: PrivatePostgres


@pytest.fixture
def hub_on_its_own_database(shared_broker: RunningBroker, tmp_path: Path) -> Iterator[HubOnItsOwnDatabase]:
    """A hub on a PostgreSQL server of this test alone (stopping it disturbs no other test), and an
    admin client recorded in that database's ledger."""
    with PrivatePostgres(tmp_path / "postgres") as database:
        # Its own database, so its own revocation list: the shared broker's must not be rewritten from it.
        settings = shared_broker.settings.model_copy(
            update={"database_url": database.create_database("hub"), "revocation_list_file": tmp_path / "revoked.txt"}
        )
        issued = open_ledger(settings, create_authority=False).issue(settings.admin_identity, settings.platform_domain)
        certificate, key = issued.write(tmp_path / "admin")
        port = processes.free_port()
        pid = hub_server.start_background(settings, port)
        context = client_ssl_context(settings.ca_file, certificate, key)
        try:
            with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=context, timeout=30) as client:
                failure = hub_server.wait_for_answer(client, pid, "/api/v1/health", timeout_s=60)
                assert failure is None, f"the hub did not become healthy: {failure}"
                yield HubOnItsOwnDatabase(client, database)
        finally:
            processes.stop_process(pid)


def test_requests_get_503_naming_the_database_while_it_is_stopped(hub_on_its_own_database: HubOnItsOwnDatabase) -> None:
    client = hub_on_its_own_database.client
    assert client.get("/api/v1/identity").status_code == 200
    hub_on_its_own_database.database.stop()
    answers = [
        client.get("/api/v1/identity"),
        client.get("/api/v1/health"),
        client.get("/subjects"),
        client.get("/api/v1/streams"),
        client.post("/subjects/down-value/versions", json={"schema": '"string"'}),
    ]
    wrong = [
        f"{answer.request.method} {answer.request.url.path} -> {answer.status_code} {answer.text}"
        for answer in answers
        if {"status_code": answer.status_code, "error_code": answer.json().get("error_code")} != DATABASE_UNAVAILABLE
        or "database" not in answer.json()["message"]
    ]
    assert not wrong, "\n".join(wrong)
