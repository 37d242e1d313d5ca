"""The hub answers over HTTPS only to hub-CA client certificates that are valid, and unrevoked, at
the time of each request: a real hub process, real TLS, the shared broker's CA and ledger."""

import ssl
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from fastapi import FastAPI
from fastapi.routing import RouteContext, iter_route_contexts
from starlette.convertors import FloatConvertor, IntegerConvertor
from starlette.routing import Match

from headwater.producers.connection import MtlsConnection
from headwater.registry.ca.authority import CLOCK_SKEW_ALLOWANCE
from tests.conftest import IdentityFactory, RunningBroker, RunningHub
from tests.hub_helpers import hub_application
from tests.kafka_helpers import foreign_ca_impostor

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
    # The admin's name, to show that only the CA signature counts.
    certificate_file, key_file = foreign_ca_impostor(tmp_path, shared_broker.settings.admin_identity)
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


# -- every route ------------------------------------------------------------------------------------
# The sweeps below read the routes from the application itself, so a route added later is swept too.

SCHEMA_BODY = {"schema": '"string"'}
# Valid for every request body the hub reads (schema, compatibility, mode), so that with a valid
# certificate body validation does not answer before authorisation. The levels are the defaults,
# so even a write that should have been refused would change no behaviour.
WRITE_BODY = {**SCHEMA_BODY, "compatibility": "BACKWARD", "mode": "READWRITE"}
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Declared templates the sweep must find, so that it cannot pass over an empty or truncated list.
EXPECTED_ROUTES = {
    ("GET", "/api/v1/identity"),
    ("GET", "/api/v1/health"),
    ("POST", "/subjects/{subject}/versions"),
    ("POST", "/subjects/{subject}"),
    ("POST", "/compatibility/subjects/{subject}/versions"),
    ("DELETE", "/subjects/{subject}"),
    ("PUT", "/config"),
    ("PUT", "/mode"),
}
MINIMUM_ROUTES = 30


@dataclass(frozen=True)
class Endpoint:
    """One (method, route) of the application, as declared."""

    method: str
    route: RouteContext

    @property
    def template(self) -> str:
        return str(self.route.path)

    @property
    def parameters(self) -> Mapping[str, Any]:
        convertors: Mapping[str, Any] = self.route.param_convertors
        return convertors

    def url(self, values: Mapping[str, object]) -> str:
        """The path with every parameter filled: from `values` by name, else by its convertor."""
        filled = {}
        for name, convertor in self.parameters.items():
            default = 1 if isinstance(convertor, IntegerConvertor | FloatConvertor) else "x"
            filled[name] = str(values.get(name, default))
        return str(self.route.path_format).format(**filled)

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


@dataclass(frozen=True)
class Answer:
    endpoint: Endpoint
    url: str
    response: httpx.Response

    @property
    def body(self) -> Any:
        try:
            return self.response.json()
        except ValueError:
            return None

    def __str__(self) -> str:
        answer = f"{self.response.status_code} {self.response.text[:200]}"
        return f"{self.endpoint} ({self.endpoint.method} {self.url}) -> {answer}"


@pytest.fixture(scope="module")
def hub_app(shared_broker: RunningBroker) -> FastAPI:
    return hub_application(shared_broker)


def _endpoints(app: FastAPI) -> list[Endpoint]:
    contexts = list(iter_route_contexts(app.routes))
    not_http = [context for context in contexts if not context.methods]
    # A mount or WebSocket route has no (method, path) to sweep: this test must learn about it.
    assert not not_http, f"routes the sweep cannot reach: {not_http}"
    endpoints = [Endpoint(method, context) for context in contexts for method in sorted(context.methods or ())]
    declared = {(endpoint.method, endpoint.template) for endpoint in endpoints}
    assert len(endpoints) >= MINIMUM_ROUTES, sorted(declared)
    assert EXPECTED_ROUTES <= declared, f"missing from the app: {sorted(EXPECTED_ROUTES - declared)}"
    return endpoints


def _assert_reaches_its_route(app: FastAPI, endpoint: Endpoint, url: str) -> None:
    """The first route to match the request in full is the swept one, so the filled-in path exercises
    that route and not another one (or none: an unknown path is a 404 that checks no certificate)."""
    scope = {"type": "http", "method": endpoint.method, "path": url, "root_path": ""}
    for context in iter_route_contexts(app.routes):
        if context.matches(scope)[0] is Match.FULL:
            assert (context.original_route, context.path) == (endpoint.route.original_route, endpoint.template), (
                f"{endpoint.method} {url} reaches {context.path}, not {endpoint.template}"
            )
            return
    pytest.fail(f"{endpoint.method} {url} reaches no route")


def _sweep(
    app: FastAPI,
    client: httpx.Client,
    endpoints: list[Endpoint],
    values: Mapping[str, object],
    body: Mapping[str, object],
) -> list[Answer]:
    answers = []
    for endpoint in endpoints:
        url = endpoint.url(values)
        _assert_reaches_its_route(app, endpoint, url)
        json = body if endpoint.method in BODY_METHODS else None
        answers.append(Answer(endpoint, url, client.request(endpoint.method, url, json=json)))
    return answers


def _report(answers: list[Answer]) -> str:
    return "\n".join(str(answer) for answer in answers)


def test_revoked_certificate_is_refused_on_every_route_of_the_app(
    hub: RunningHub, hub_app: FastAPI, shared_broker: RunningBroker, issue_identity: IdentityFactory
) -> None:
    connection = issue_identity()
    shared_broker.ledger.revoke_certificate(format(_serial(connection), "x"))
    endpoints = _endpoints(hub_app)
    values = {"subject": "some-subject", "schema_id": 1, "version": "latest", "namespace": "x", "name": "x"}
    with _client(hub, connection) as client:
        answers = _sweep(hub_app, client, endpoints, values, SCHEMA_BODY)
    assert len(answers) == len(endpoints)
    wrong = [
        answer
        for answer in answers
        if answer.response.status_code != 401
        or not isinstance(answer.body, dict)
        or answer.body.get("error_code") != 40101
        or "revoked" not in str(answer.body.get("message"))
    ]
    assert not wrong, f"{len(wrong)} of {len(answers)} routes did not refuse a revoked certificate:\n{_report(wrong)}"


@pytest.fixture
def registered_subject(hub: RunningHub, shared_broker: RunningBroker) -> tuple[str, int]:
    """A subject of this test alone with one version, registered by the admin; and its schema id."""
    subject = f"tls-sweep-{uuid.uuid4().hex[:12]}-value"
    with _client(hub, shared_broker.admin_connection) as client:
        response = client.post(f"/subjects/{subject}/versions", json=SCHEMA_BODY)
    assert response.status_code == 200, response.text
    return subject, int(response.json()["id"])


def _sweep_values(registered_subject: tuple[str, int]) -> dict[str, object]:
    subject, schema_id = registered_subject
    return {"subject": subject, "schema_id": schema_id, "version": "latest", "namespace": "x", "name": "x"}


def _errors_not_json(answers: list[Answer]) -> list[Answer]:
    """Answers breaking the Confluent error contract: an error body is `{"error_code": int, ...}`."""
    return [
        answer
        for answer in answers
        if answer.response.status_code >= 400
        and not (isinstance(answer.body, dict) and isinstance(answer.body.get("error_code"), int))
    ]


def test_valid_identity_is_authenticated_on_every_route_of_the_app(
    hub: RunningHub, hub_app: FastAPI, issue_identity: IdentityFactory, registered_subject: tuple[str, int]
) -> None:
    """A valid non-admin certificate passes authentication everywhere: refusals are 403 (not its
    subject), 404 or 422, never 401, and no route fails with 5xx."""
    endpoints = _endpoints(hub_app)
    with _client(hub, issue_identity()) as client:
        answers = _sweep(hub_app, client, endpoints, _sweep_values(registered_subject), WRITE_BODY)
    assert len(answers) == len(endpoints)
    wrong = [answer for answer in answers if answer.response.status_code == 401 or answer.response.status_code >= 500]
    assert not wrong, f"{len(wrong)} of {len(answers)} routes:\n{_report(wrong)}"
    assert not _errors_not_json(answers), _report(_errors_not_json(answers))
    # The write routes really ran up to authorisation: a non-admin caller owns no subject.
    refused = {str(answer.endpoint) for answer in answers if answer.response.status_code == 403}
    assert {"PUT /config", "PUT /mode", "POST /subjects/{subject}/versions"} <= refused, _report(answers)


def _admin_may_send(endpoint: Endpoint) -> bool:
    """Safe methods everywhere; other methods only on routes of one subject (this test's own), so the
    sweep never changes global settings or other tests' subjects."""
    return endpoint.method in SAFE_METHODS or "subject" in endpoint.parameters


def _writes_last(endpoint: Endpoint) -> int:
    return {"GET": 0, "HEAD": 0, "POST": 1, "PUT": 2, "PATCH": 2, "DELETE": 3}.get(endpoint.method, 2)


def test_admin_gets_no_server_error_on_any_route_of_the_app(
    hub: RunningHub, hub_app: FastAPI, shared_broker: RunningBroker, registered_subject: tuple[str, int]
) -> None:
    endpoints = sorted(filter(_admin_may_send, _endpoints(hub_app)), key=_writes_last)
    swept = {str(endpoint) for endpoint in endpoints}
    assert {"POST /subjects/{subject}", "POST /compatibility/subjects/{subject}/versions"} <= swept
    assert "PUT /config" not in swept
    with _client(hub, shared_broker.admin_connection) as client:
        answers = _sweep(hub_app, client, endpoints, _sweep_values(registered_subject), WRITE_BODY)
    wrong = [answer for answer in answers if answer.response.status_code == 401 or answer.response.status_code >= 500]
    assert not wrong, f"{len(wrong)} of {len(answers)} routes:\n{_report(wrong)}"
    assert not _errors_not_json(answers), _report(_errors_not_json(answers))
    # The admin's reads of its own subject succeed: the sweep reached the handlers, not only their refusals.
    succeeded = {str(answer.endpoint) for answer in answers if answer.response.status_code == 200}
    assert {
        "GET /schemas/ids/{schema_id}",
        "GET /subjects/{subject}/versions/{version}",
        "POST /subjects/{subject}",
        "PUT /config/{subject}",
        "DELETE /subjects/{subject}/versions/{version}",
    } <= succeeded, _report(answers)
