"""Hostile input found by hand (issue 14), each against the running hub over mTLS: deep nesting, lone
surrogates, control characters, integers beyond 64 bits, odd version spellings. None may produce a
5xx; each refusal has its own error code, and the connection stays usable after it."""

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from cryptography import x509

from tests.conftest import IdentityFactory, RunningBroker, RunningHub
from tests.hub_helpers import fresh_domain, hub_http_client
from tests.integration.test_stream_registration import spec
from tests.unit.schemas.test_parse_limits import nested_records, referenced_records

JSON_TOO_DEEP = 42250
SCHEMA_NESTING_TOO_DEEP = 42251
CHARACTERS_REFUSED = 42252
INVALID_SCHEMA = 42201
INVALID_VERSION = 42202
INVALID_REQUEST = 42200


@pytest.fixture
def admin(shared_hub: RunningHub, shared_broker: RunningBroker) -> Iterator[httpx.Client]:
    with hub_http_client(shared_hub, shared_broker.admin_connection) as client:
        yield client


def _subject() -> str:
    return f"hostile-{uuid.uuid4().hex[:12]}-value"


def _client_port(response: httpx.Response) -> int:
    return int(response.extensions["network_stream"].get_extra_info("client_addr")[1])


def _refused(client: httpx.Client, response: httpx.Response, status: int, code: int, *fragments: str) -> None:
    """`response` is the refusal expected, and the same connection then answers another request."""
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert body["error_code"] == code, body
    for fragment in fragments:
        assert fragment in body["message"], body["message"]
    port = _client_port(response)
    follow_up = client.get("/api/v1/identity")
    assert follow_up.status_code == 200 and _client_port(follow_up) == port


def test_schema_text_nested_2500_deep_is_refused_naming_the_json_limit(admin: httpx.Client) -> None:
    deep = "[" * 2500 + '"int"' + "]" * 2500
    response = admin.post(f"/subjects/{_subject()}/versions", json={"schema": deep})
    _refused(admin, response, 422, JSON_TOO_DEEP, "256")


def test_avro_records_nested_200_deep_are_refused_naming_a_limit(admin: httpx.Client) -> None:
    # 200 records are 600 JSON levels: the JSON limit answers before the Avro one.
    response = admin.post(f"/subjects/{_subject()}/versions", json={"schema": nested_records(200)})
    _refused(admin, response, 422, JSON_TOO_DEEP, "256")


def test_avro_records_nested_70_deep_are_refused_naming_the_nesting_limit(admin: httpx.Client) -> None:
    response = admin.post(f"/subjects/{_subject()}/versions", json={"schema": nested_records(70)})
    _refused(admin, response, 422, SCHEMA_NESTING_TOO_DEEP, "64")


def test_avro_records_200_deep_through_references_are_refused_naming_the_nesting_limit(admin: httpx.Client) -> None:
    schema = referenced_records(200)
    subject = _subject()
    for path in (f"/subjects/{subject}/versions", f"/compatibility/subjects/{subject}/versions", "/subjects/x-value"):
        _refused(admin, admin.post(path, json={"schema": schema}), 422, SCHEMA_NESTING_TOO_DEEP, "64")


def test_a_schema_at_the_nesting_limit_registers_and_checks(admin: httpx.Client) -> None:
    """The limits refuse only what lies beyond them: 64 records deep (192 JSON levels) goes through
    registration, a compatibility check against itself and the lookup."""
    schema = nested_records(64)
    subject = _subject()
    registered = admin.post(f"/subjects/{subject}/versions", json={"schema": schema})
    assert registered.status_code == 200, registered.text
    check = admin.post(f"/compatibility/subjects/{subject}/versions/latest", json={"schema": schema})
    assert check.status_code == 200 and check.json()["is_compatible"] is True, check.text
    assert admin.post(f"/subjects/{subject}", json={"schema": schema}).status_code == 200


def _deep_body_with_nul(depth: int) -> bytes:
    return ("[" * depth + '"\\u0000"' + "]" * depth).encode()


def test_a_deep_body_holding_nul_from_a_revoked_certificate_is_refused_as_unauthenticated(
    shared_hub: RunningHub, shared_broker: RunningBroker, issue_identity: IdentityFactory
) -> None:
    connection = issue_identity()
    serial = x509.load_pem_x509_certificate(connection.certificate_file.read_bytes()).serial_number
    shared_broker.ledger.revoke_certificate(format(serial, "x"))
    with hub_http_client(shared_hub, connection) as client:
        response = client.post(
            "/api/v1/domains", content=_deep_body_with_nul(1000), headers={"content-type": "application/json"}
        )
    assert response.status_code == 401, response.text[:500]
    assert response.json()["error_code"] == 40101


def test_a_deep_body_holding_nul_from_a_valid_identity_is_refused_naming_the_json_limit(
    shared_hub: RunningHub, issue_identity: IdentityFactory
) -> None:
    with hub_http_client(shared_hub, issue_identity()) as client:
        response = client.post(
            "/api/v1/domains", content=_deep_body_with_nul(1000), headers={"content-type": "application/json"}
        )
        _refused(client, response, 422, JSON_TOO_DEEP, "256", "request body")


def test_a_lone_surrogate_in_an_enum_symbol_is_an_invalid_schema(admin: httpx.Client) -> None:
    # Twice escaped: the body's string holds `\ud800` as six characters, which the schema's JSON decodes.
    schema = '{"type": "enum", "name": "E", "symbols": ["\\ud800"]}'
    response = admin.post(f"/subjects/{_subject()}/versions", json={"schema": schema})
    _refused(admin, response, 422, INVALID_SCHEMA, "surrogate", "\\ud800")
    # Once escaped: the body's own string holds the surrogate.
    raw = '{"schema": "{\\"type\\": \\"enum\\", \\"name\\": \\"E\\", \\"symbols\\": [\\"\\ud800\\"]}"}'
    response = admin.post(
        f"/subjects/{_subject()}/versions", content=raw.encode(), headers={"content-type": "application/json"}
    )
    _refused(admin, response, 422, CHARACTERS_REFUSED, "surrogate")


@pytest.mark.parametrize(
    ("field", "text", "fragment"),
    [
        ("description", "\ud800", "surrogate"),
        ("owner_team", "team \udfff", "surrogate"),
        ("description", "bell \x07", "control character"),
        ("contact", "\x1b[31mred", "control character"),
        ("owner_team", "next line \x85", "control character"),
    ],
)
def test_lone_surrogates_and_control_characters_in_stream_text_are_refused(
    shared_hub: RunningHub,
    shared_broker: RunningBroker,
    issue_identity: IdentityFactory,
    field: str,
    text: str,
    fragment: str,
) -> None:
    domain = fresh_domain(shared_hub, shared_broker)
    with hub_http_client(shared_hub, issue_identity(domain=domain)) as client:
        body = json.dumps(spec(f"{domain}.order", **{field: text}))  # ensure_ascii: surrogates as escapes
        response = client.post("/api/v1/streams", content=body, headers={"content-type": "application/json"})
        _refused(client, response, 422, CHARACTERS_REFUSED, fragment, field)


def test_tabs_and_new_lines_in_stored_text_are_accepted(
    shared_hub: RunningHub, shared_broker: RunningBroker, issue_identity: IdentityFactory
) -> None:
    domain = fresh_domain(shared_hub, shared_broker)
    with hub_http_client(shared_hub, issue_identity(domain=domain)) as client:
        response = client.post("/api/v1/streams", json=spec(f"{domain}.order", description="Orders,\n\tone a line."))
    assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def registered_stream(shared_hub: RunningHub, shared_broker: RunningBroker) -> str:
    """A stream of this module, registered by the admin (so routes reach past their lookup)."""
    domain = fresh_domain(shared_hub, shared_broker)
    name = f"{domain}.order"
    with hub_http_client(shared_hub, shared_broker.admin_connection) as client:
        response = client.post("/api/v1/streams", json=spec(name, owner=f"{domain}-svc"))
    assert response.status_code == 201, response.text
    return name


@pytest.mark.parametrize("version", [str(2**63), str(-(2**63) - 1), str(2**31), "0", "-5"])
def test_integers_beyond_a_parameters_range_are_refused(
    admin: httpx.Client, registered_stream: str, version: str
) -> None:
    diff = f"/api/v1/streams/{registered_stream}/diff"
    response = admin.get(diff, params={"from_version": version, "to_version": 1})
    _refused(admin, response, 422, INVALID_REQUEST, "from_version")


def test_integers_beyond_64_bits_in_a_body_are_refused(admin: httpx.Client) -> None:
    for number in (2**63, -(2**63) - 1):
        response = admin.post("/subjects/x-value", json={"schema": '"string"', "version": number})
        _refused(admin, response, 422, 42253, "64-bit")


@pytest.mark.parametrize("version", ["01", "\u0661", "\u00b2", "+1", " 1", "1" * 5000, "2147483648"])
def test_version_numbers_are_ascii_digits_without_leading_zeros(admin: httpx.Client, version: str) -> None:
    subject = _subject()
    assert admin.post(f"/subjects/{subject}/versions", json={"schema": '"string"'}).status_code == 200
    response = admin.get(f"/subjects/{subject}/versions/{version}")
    _refused(admin, response, 422, INVALID_VERSION, "not a valid version")
    assert admin.get(f"/subjects/{subject}/versions/1").status_code == 200


def test_field_names_longer_than_the_catalog_stores_are_refused(
    shared_hub: RunningHub, shared_broker: RunningBroker, issue_identity: IdentityFactory
) -> None:
    """Avro sets no limit on names; the catalog's columns do (PostgreSQL enforces them: a 500 there)."""
    domain = fresh_domain(shared_hub, shared_broker)
    long_name = "f" * 300
    value = {"type": "record", "name": "V", "fields": [{"name": long_name, "type": "string", "doc": "Long."}]}
    with hub_http_client(shared_hub, issue_identity(domain=domain)) as client:
        response = client.post("/api/v1/streams", json=spec(f"{domain}.order", value_schema=json.dumps(value)))
        _refused(client, response, 422, INVALID_SCHEMA, "longer than 255")
