"""The hub answers over HTTPS only to hub-CA client certificates that are valid, and unrevoked, at
the time of each request: a real hub process, real TLS, the shared broker's CA and ledger."""

import ssl
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from headwater.producers.connection import MtlsConnection
from headwater.registry.ca import CertificateAuthority, CertificateKind, CertificateRequest
from headwater.registry.ca.authority import CLOCK_SKEW_ALLOWANCE
from tests.conftest import IdentityFactory, RunningBroker, RunningHub

UNAUTHENTICATED = {"status_code": 401, "error_code": 40101}


@pytest.fixture
def hub(shared_hub: RunningHub) -> RunningHub:
    return shared_hub


def _client(
    hub: RunningHub,
    connection: MtlsConnection | None,
    maximum_version: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(hub.ca_file))
    context.maximum_version = maximum_version
    if connection is not None:
        context.load_cert_chain(str(connection.certificate_file), str(connection.key_file))
    return httpx.Client(base_url=hub.base_url, verify=context, timeout=10.0)


def _serial(connection: MtlsConnection) -> int:
    return x509.load_pem_x509_certificate(connection.certificate_file.read_bytes()).serial_number


def _assert_handshake_cut_short(hub: RunningHub, connection: MtlsConnection | None) -> None:
    """The hub refuses the connection during the TLS handshake (over TLS 1.2).

    In TLS 1.3 the server checks the client certificate after the client considers the handshake
    done, so a refusal shows only on the first read; TLS 1.2 makes the handshake itself fail. The
    server's alert never arrives: asyncio closes the connection without sending it (CPython
    gh-98078), so the client sees the handshake cut short, whatever the reason."""
    with _client(hub, connection, ssl.TLSVersion.TLSv1_2) as client, pytest.raises(httpx.ConnectError) as raised:
        client.get("/api/v1/identity")
    cause = raised.value.__cause__
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    assert isinstance(cause, ssl.SSLEOFError), f"expected the handshake to be cut short, got {raised.value!r}"
    assert cause.reason == "UNEXPECTED_EOF_WHILE_READING"


def _client_port(response: httpx.Response) -> int:
    """The local port of the connection that carried `response` (read while it is open): equal ports
    mean the second request reused the first one's connection."""
    return int(response.extensions["network_stream"].get_extra_info("client_addr")[1])


def _assert_unauthenticated(response: httpx.Response) -> None:
    assert {"status_code": response.status_code, "error_code": response.json()["error_code"]} == UNAUTHENTICATED


def test_client_without_certificate_is_refused_at_the_handshake(hub: RunningHub) -> None:
    _assert_handshake_cut_short(hub, None)


def test_client_without_certificate_gets_no_answer_over_tls_1_3(hub: RunningHub) -> None:
    with _client(hub, None) as client, pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        client.get("/api/v1/identity")


def test_certificate_from_another_ca_is_refused_at_the_handshake(
    hub: RunningHub, shared_broker: RunningBroker, tmp_path: Path
) -> None:
    foreign = CertificateAuthority.create(tmp_path / "foreign-ca", trust_domain="elsewhere.example")
    # The admin's name, to show that only the CA signature counts.
    impostor = foreign.sign(
        CertificateRequest(
            shared_broker.settings.admin_identity, "platform", CertificateKind.CLIENT, timedelta(hours=1)
        )
    )
    certificate_file, key_file = impostor.write(tmp_path / "impostor")
    connection = MtlsConnection(shared_broker.bootstrap_servers, hub.ca_file, certificate_file, key_file)
    _assert_handshake_cut_short(hub, connection)


def test_expired_certificate_is_refused_at_the_handshake(hub: RunningHub, issue_identity: IdentityFactory) -> None:
    expired = issue_identity(lifetime=timedelta(hours=1), not_before=datetime.now(UTC) - timedelta(hours=2))
    _assert_handshake_cut_short(hub, expired)


def test_not_yet_valid_certificate_is_refused_at_the_handshake(
    hub: RunningHub, issue_identity: IdentityFactory
) -> None:
    future = issue_identity(lifetime=timedelta(hours=1), not_before=datetime.now(UTC) + timedelta(hours=1))
    _assert_handshake_cut_short(hub, future)


def test_valid_certificate_completes_the_same_handshake(hub: RunningHub, issue_identity: IdentityFactory) -> None:
    """The control for the refusals above: same client settings, a certificate the hub accepts."""
    with _client(hub, issue_identity(), ssl.TLSVersion.TLSv1_2) as client:
        assert client.get("/api/v1/identity").status_code == 200


def test_revoked_certificate_is_refused_on_every_route(
    hub: RunningHub, shared_broker: RunningBroker, issue_identity: IdentityFactory
) -> None:
    connection = issue_identity()
    shared_broker.ledger.revoke_certificate(format(_serial(connection), "x"))
    with _client(hub, connection) as client:
        identity = client.get("/api/v1/identity")
        health = client.get("/api/v1/health")
    _assert_unauthenticated(identity)
    _assert_unauthenticated(health)
    assert "revoked" in identity.json()["message"]


def test_revocation_applies_to_an_open_keep_alive_connection(
    hub: RunningHub, shared_broker: RunningBroker, issue_identity: IdentityFactory
) -> None:
    connection = issue_identity()
    with _client(hub, connection) as client:
        before = client.get("/api/v1/identity")
        port_before = _client_port(before)
        shared_broker.ledger.revoke_certificate(format(_serial(connection), "x"))
        after = client.get("/api/v1/identity")
        assert _client_port(after) == port_before
    assert before.status_code == 200
    _assert_unauthenticated(after)


def test_certificate_expiring_during_a_keep_alive_connection_is_refused(
    hub: RunningHub, issue_identity: IdentityFactory
) -> None:
    # Valid for about two more seconds: less than uvicorn's 5 s keep-alive timeout, so the
    # connection stays open while the certificate expires.
    connection = issue_identity(lifetime=CLOCK_SKEW_ALLOWANCE + timedelta(seconds=2))
    not_after = x509.load_pem_x509_certificate(connection.certificate_file.read_bytes()).not_valid_after_utc
    with _client(hub, connection) as client:
        before = client.get("/api/v1/identity")
        port_before = _client_port(before)
        time.sleep(max(0.0, (not_after - datetime.now(UTC)).total_seconds()) + 1.1)
        after = client.get("/api/v1/identity")
        assert _client_port(after) == port_before
    assert before.status_code == 200
    _assert_unauthenticated(after)
    assert "not now" in after.json()["message"]


def test_valid_identity_is_answered_with_its_name_domain_and_serial(
    hub: RunningHub, issue_identity: IdentityFactory
) -> None:
    name = f"reader-{uuid.uuid4().hex[:8]}"
    connection = issue_identity(name, domain="orders")
    with _client(hub, connection) as client:
        response = client.get("/api/v1/identity")
    assert response.status_code == 200
    assert response.json() == {
        "identity": name,
        "domain": "orders",
        "serial": format(_serial(connection), "x"),
        "is_admin": False,
    }


def test_admin_identity_is_recognised(hub: RunningHub, shared_broker: RunningBroker) -> None:
    with _client(hub, shared_broker.admin_connection) as client:
        response = client.get("/api/v1/identity")
    assert response.status_code == 200
    assert response.json()["identity"] == shared_broker.settings.admin_identity
    assert response.json()["is_admin"] is True


def test_health_reports_database_and_broker(hub: RunningHub, issue_identity: IdentityFactory) -> None:
    with _client(hub, issue_identity()) as client:
        response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": True, "broker": True}}


def test_unknown_route_is_a_json_404(hub: RunningHub, issue_identity: IdentityFactory) -> None:
    with _client(hub, issue_identity()) as client:
        response = client.get("/api/v1/no-such-route")
    assert response.status_code == 404
    assert response.json() == {"error_code": 404, "message": "HTTP 404 Not Found"}
