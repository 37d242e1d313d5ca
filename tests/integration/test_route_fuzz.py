"""Hostile values in every path parameter, query parameter and body field of every route, as the hub
admin and as an identity without any grant, against the running hub.

The cases come from the application itself: its route list, and for each route the parameters and
body its OpenAPI operation declares; a route added later is fuzzed without touching this file. Each
case changes one value of a request that is otherwise valid (so the hostile value, not a missing
field, is what the hub meets): deep nesting, NUL, lone surrogates, control characters, 2^63 and
-2^63-1, very long strings, wrong types. The hub must answer every case without a 5xx, refuse with
an error code of its error tree (never the 50000 of an unexpected error), and keep the connection
open after every refusal that read the body: only a refusal sent before reading the body may close it.
"""

import copy
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from headwater.ledger import open_ledger
from headwater.local import hub as hub_server
from headwater.local import processes
from headwater.local.postgres import PrivatePostgres
from headwater.producers.connection import MtlsConnection
from headwater.registry.api.errors import VALIDATION_ERROR_CODE
from headwater.registry.errors import RegistryError
from tests.conftest import IdentityFactory, RunningBroker, RunningHub
from tests.hub_helpers import hub_application, hub_http_client
from tests.integration.test_stream_registration import spec

JsonValue = Any
MINIMUM_ROUTES = 60
# Early refusals, answered before the body is read: the only ones allowed to close the connection.
CLOSING_STATUSES = frozenset({401, 413})
GLOBAL_SETTINGS = re.compile(r"^/(config|mode)$")
"""Global compatibility and mode: the admin leaves them alone, other tests share this hub."""

# Hostile values, percent-encoded by hand: httpx refuses control characters in URLs, and cannot
# encode a lone surrogate at all (its UTF-8 form, ED A0 80, is what a hostile client sends).
PATH_VALUES = [
    "%00",
    "%ED%A0%80",
    quote("\x01\x1f\x7f\u0085"),
    str(2**63),
    str(-(2**63) - 1),
    str(2**31),
    "-1",
    "0",
    "01",
    quote("\u0661"),
    quote("\u00b2"),
    "x" * 4000,
    quote("[" * 300, safe=""),
    "%2F..%2F..",
    "%C0%AE",
]
QUERY_VALUES = [*PATH_VALUES, "", "true", quote("9999-12-31T23:59:59-14:00")]
BODY_VALUES: list[JsonValue] = [
    "\x00",
    "\ud800",
    "\x01\x1f\x7f\u0085",
    "x" * 50_000,
    "",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    2**63,
    -(2**63) - 1,
    2**31,
    -1,
    0,
    1e308,
    True,
    None,
    [],
    {},
    ["x"],
    [[[[[[[[[["deep"]]]]]]]]]],
    json.loads("[" * 300 + "]" * 300),
]
RAW_BODIES = [
    b"\xff\xfe\x00",
    b"[" * 5000,
    b"[" * 300 + b"]" * 300,
    b'{"a": NaN}',
    b'{"a": 1e999}',
    b"1" * 5000,
    b'"\\ud800"',
    b"null",
    b"{}",
    b"[]",
]


@dataclass(frozen=True)
class Case:
    method: str
    template: str
    url: str
    body: bytes | None
    what: str

    def __str__(self) -> str:
        return f"{self.method} {self.template} [{self.what}]"


@dataclass
class Verdicts:
    failures: list[str] = field(default_factory=list)
    fuzzed_routes: set[str] = field(default_factory=set)

    def fail(self, case: Case, problem: str, response: httpx.Response | None = None) -> None:
        answer = "" if response is None else f" -> {response.status_code} {response.text[:200]}"
        self.failures.append(f"{case}: {problem}{answer}")


def _registry_error_codes() -> frozenset[int]:
    """Every code of the error tree: RegistryError and all its subclasses, whatever module defines them
    (importing the app imported them all)."""
    codes, pending = set(), [RegistryError]
    while pending:
        error = pending.pop()
        codes.add(error.error_code)
        pending.extend(error.__subclasses__())
    return frozenset(codes | {VALIDATION_ERROR_CODE})


def _specific_refusal(response: httpx.Response, codes: frozenset[int]) -> str | None:
    """What is wrong with a refusal's body, or None: a JSON object with a code of the error tree
    matching its status (the status itself for unknown routes and methods, in Confluent's format)."""
    try:
        body = response.json()
    except ValueError:
        return "the body is not JSON"
    code = body.get("error_code") if isinstance(body, dict) else None
    if not isinstance(code, int) or not isinstance(body.get("message"), str) or not body["message"]:
        return "no error_code and message"
    if code == response.status_code and code in (404, 405):
        return None
    if code not in codes:
        return f"error code {code} is not in the error tree"
    if code == VALIDATION_ERROR_CODE and not body["message"].startswith("Invalid request"):
        return "42200 is for requests of the wrong shape, not a catch-all"
    if code // 100 != response.status_code:
        return f"error code {code} does not match the status"
    return None


class OpenApi:
    """The application's own description of each route's parameters and body."""

    def __init__(self, app: FastAPI) -> None:
        self.document: dict[str, Any] = app.openapi()

    def operation(self, method: str, template: str) -> Mapping[str, Any]:
        return self.document["paths"].get(template, {}).get(method.lower(), {})

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            schema = self.document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        if "anyOf" in schema:  # Optional[X]: fuzz X
            schema = next(option for option in schema["anyOf"] if option.get("type") != "null")
            return self.resolve(schema)
        return schema

    def instance(self, schema: Mapping[str, Any]) -> JsonValue:
        """A small valid value of `schema`: required properties only, the least each allows."""
        schema = self.resolve(schema)
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        if kind == "object":
            properties = schema.get("properties", {})
            return {name: self.instance(properties[name]) for name in schema.get("required", [])}
        if kind == "array":
            return []
        if kind == "integer":
            return int(schema.get("minimum", 1))
        if kind == "number":
            return 1.0
        if kind == "boolean":
            return False
        if schema.get("format") == "date-time":
            return "2099-01-01T00:00:00+00:00"
        pattern = schema.get("pattern")
        for candidate in ("x" * max(1, schema.get("minLength", 1)), "0" * 32, "a"):
            if pattern is None or re.search(pattern, candidate):
                return candidate
        return "x"

    def body_fields(self, schema: Mapping[str, Any]) -> list[tuple[JsonValue, ...]]:
        """Where hostile values go: each property of the body object, and of the objects it holds (one
        level down); for an array body, the properties of its first item."""
        schema = self.resolve(schema)
        if schema.get("type") == "array":
            return [(0, *inner) for inner in self.body_fields(schema["items"]) or [()]]
        positions: list[tuple[JsonValue, ...]] = []
        for name, property_schema in schema.get("properties", {}).items():
            positions.append((name,))
            inner = self.resolve(property_schema)
            if inner.get("type") == "object" and inner.get("properties"):
                positions.extend((name, nested) for nested in inner["properties"])
        return positions


def _with(body: JsonValue, position: tuple[JsonValue, ...], value: JsonValue) -> JsonValue:
    """A copy of `body` with `value` at `position`, the containers on the way created as needed."""
    changed = copy.deepcopy(body)
    if not position:
        return value
    container = changed
    for key, next_key in zip(position, position[1:], strict=False):
        if isinstance(container, list):
            while len(container) <= key:
                container.append({})
        elif not isinstance(container.get(key), dict | list):
            container[key] = [] if isinstance(next_key, int) else {}
        container = container[key]
    if isinstance(container, list):
        while len(container) <= position[-1]:
            container.append(None)
    container[position[-1]] = value
    return changed


@dataclass(frozen=True)
class Baseline:
    """The valid request each case starts from, for one caller."""

    path_values: Callable[[str, str], str]
    bodies: Mapping[tuple[str, str], JsonValue]


def _cases(app: FastAPI, baseline: Baseline, may_send: Callable[[str, str], bool]) -> Iterator[Case]:
    api = OpenApi(app)
    for context in iter_route_contexts(app.routes):
        template = str(context.path)
        for method in sorted(context.methods or ()):
            if may_send(method, template):
                yield from _route_cases(api, baseline, method, template, str(context.path_format))


def _route_cases(api: OpenApi, baseline: Baseline, method: str, template: str, path_format: str) -> Iterator[Case]:
    operation = api.operation(method, template)
    parameters = operation.get("parameters", [])
    path_names = [parameter["name"] for parameter in parameters if parameter["in"] == "path"]
    query = [parameter for parameter in parameters if parameter["in"] == "query"]
    path = {name: baseline.path_values(name, template) for name in path_names}
    required_query = {
        parameter["name"]: str(api.instance(parameter["schema"])) for parameter in query if parameter.get("required")
    }
    body_schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    body = baseline.bodies.get((method, template), None if body_schema is None else api.instance(body_schema))

    def case(what: str, path_values: Mapping[str, str], query_values: Mapping[str, str], content: bytes | None) -> Case:
        url = path_format.format(**path_values)
        if query_values:
            url += "?" + "&".join(f"{name}={value}" for name, value in query_values.items())
        return Case(method, template, url, content, what)

    encoded_body = None if body is None else json.dumps(body).encode()
    for name in path_names:
        for value in PATH_VALUES:
            yield case(f"path {name}={value[:20]}", {**path, name: value}, required_query, encoded_body)
    for parameter in query:
        for value in QUERY_VALUES:
            query_values = {**required_query, parameter["name"]: value}
            yield case(f"query {parameter['name']}={value[:20]}", path, query_values, encoded_body)
    if body_schema is None:
        return
    for position in api.body_fields(body_schema):
        for value in BODY_VALUES:
            hostile = json.dumps(_with(body, position, value)).encode()  # ensure_ascii: surrogates go as escapes
            yield case(f"body {'/'.join(map(str, position))}={str(value)[:20]!r}", path, required_query, hostile)
    for raw in RAW_BODIES:
        yield case(f"raw body {raw[:20]!r}", path, required_query, raw)


def _client_port(response: httpx.Response) -> int | None:
    """The local port of the connection that carried `response`, or None when it is closed already."""
    try:
        return int(response.extensions["network_stream"].get_extra_info("client_addr")[1])
    except OSError:
        return None


def _run(client: httpx.Client, cases: list[Case], codes: frozenset[int], verdicts: Verdicts) -> None:
    # Reads first, deletes last: a case deleting the test's own subject early would turn later ones into 404s.
    order = {"GET": 0, "POST": 1, "PUT": 2, "DELETE": 3}
    port: int | None = None
    for case in sorted(cases, key=lambda case: order.get(case.method, 2)):
        headers = {"content-type": "application/json"} if case.body is not None else {}
        try:
            response = client.request(case.method, case.url, content=case.body, headers=headers)
        except httpx.TransportError as exc:
            verdicts.fail(case, f"no answer: {exc!r}")
            port = None
            continue
        verdicts.fuzzed_routes.add(f"{case.method} {case.template}")
        if response.status_code >= 500:
            verdicts.fail(case, "server error", response)
        elif response.status_code >= 400 and (problem := _specific_refusal(response, codes)) is not None:
            verdicts.fail(case, problem, response)
        if response.headers.get("connection") == "close":
            if response.status_code not in CLOSING_STATUSES:
                verdicts.fail(case, "closed the connection after reading the body", response)
            port = None
            continue
        current = _client_port(response)
        if current is None:
            verdicts.fail(case, "the hub closed the connection without saying so", response)
        elif port is not None and current != port:
            verdicts.fail(case, "a new connection: the previous answer left the connection unusable", response)
        port = current


@dataclass(frozen=True)
class Fixtures:
    subject: str
    schema_id: int
    stream: str
    domain: str


@dataclass(frozen=True)
class FuzzedHub:
    hub: RunningHub
    admin: MtlsConnection


@pytest.fixture(scope="module")
def hub_app(shared_broker: RunningBroker) -> FastAPI:
    return hub_application(shared_broker)


@pytest.fixture(scope="module")
def postgresql_hub(
    shared_broker: RunningBroker, postgres_server: PrivatePostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzedHub]:
    """A hub on a PostgreSQL database of its own (the shared hub runs on SQLite): PostgreSQL refuses
    what SQLite stores (integers beyond 32 bits in INTEGER columns, U+0000 in text)."""
    # Its own database, so its own revocation list: the shared broker's must not be rewritten from it.
    settings = shared_broker.settings.model_copy(
        update={
            "database_url": postgres_server.create_database(f"fuzz_{uuid.uuid4().hex[:12]}"),
            "revocation_list_file": tmp_path_factory.mktemp("revocations") / "revocations.txt",
        }
    )
    ledger = open_ledger(settings, create_authority=False)
    issued = ledger.issue(settings.admin_identity, settings.platform_domain)
    certificate, key = issued.write(tmp_path_factory.mktemp("postgresql-admin"))
    admin = MtlsConnection(shared_broker.bootstrap_servers, settings.ca_file, certificate, key)
    port = processes.free_port()
    pid = hub_server.start_background(settings, port)
    hub = RunningHub(f"https://127.0.0.1:{port}", settings.ca_file)
    try:
        with hub_http_client(hub, admin) as client:
            failure = hub_server.wait_for_answer(client, pid, "/api/v1/health", timeout_s=60)
        assert failure is None, f"the hub on PostgreSQL did not become healthy: {failure}"
        yield FuzzedHub(hub, admin)
    finally:
        processes.stop_process(pid)


def _owned(hub: RunningHub, admin: MtlsConnection) -> Fixtures:
    """A subject and a stream of this test, made by the admin, for the admin's cases to act on."""
    domain = f"d{uuid.uuid4().hex[:10]}"
    subject = f"fuzz-{uuid.uuid4().hex[:12]}-value"
    with hub_http_client(hub, admin) as client:
        created = client.post("/api/v1/domains", json={"name": domain, "owning_team": "t", "contact": "c"})
        assert created.status_code == 201, created.text
        registered = client.post(f"/subjects/{subject}/versions", json={"schema": '"string"'})
        assert registered.status_code == 200, registered.text
        stream = client.post("/api/v1/streams", json=spec(f"{domain}.owned", owner=f"{domain}-svc"))
        assert stream.status_code == 201, stream.text
    return Fixtures(subject, int(registered.json()["id"]), f"{domain}.owned", domain)


def _baseline(owned: Fixtures) -> Baseline:
    row_id = str(2**31 - 1)  # no grant or waiver has it: a case can change nothing another test made
    by_name = {"subject": owned.subject, "schema_id": str(owned.schema_id), "version": "latest"}
    by_name |= {"grant_id": row_id, "waiver_id": row_id, "serial": "f" * 40, "namespace": "x"}

    def path_values(name: str, template: str) -> str:
        if name == "name":
            return "fuzz-nobody" if "/identities/" in template or "/associations/" in template else owned.stream
        return by_name[name]

    schema = {"schema": '"string"'}
    bodies: dict[tuple[str, str], JsonValue] = {
        ("POST", "/subjects/{subject}/versions"): schema,
        ("POST", "/subjects/{subject}"): schema,
        ("POST", "/compatibility/subjects/{subject}/versions"): schema,
        ("POST", "/compatibility/subjects/{subject}/versions/{version}"): schema,
        ("PUT", "/config"): {"compatibility": "BACKWARD"},
        ("PUT", "/config/{subject}"): {"compatibility": "BACKWARD"},
        ("PUT", "/mode"): {"mode": "READWRITE"},
        ("PUT", "/mode/{subject}"): {"mode": "READWRITE"},
        ("POST", "/api/v1/streams"): spec(f"{owned.domain}.fuzzed"),
        ("POST", "/api/v1/policies/check"): {"schema_version": {"subject": "x-value", "schema": '"string"'}},
        ("POST", "/api/v1/domains"): {"name": f"fz{uuid.uuid4().hex[:10]}", "owning_team": "t", "contact": "c"},
        ("PUT", "/api/v1/streams/{name}/data-rules"): [{"name": "always", "expression": "true"}],
        ("POST", "/api/v1/identities"): {"name": "fuzz-svc", "domain": owned.domain, "csr_pem": "x"},
        # A real rule, so the admin's cases reach the waiver's dates; the target is nobody's subject.
        ("POST", "/api/v1/policies/waivers"): {
            "rule_id": "fields-documented",
            "target": f"fuzz-{uuid.uuid4().hex[:12]}-value",
            "expires_at": "2099-01-01T00:00:00+00:00",
            "reason": "fuzzing",
        },
    }
    return Baseline(path_values, bodies)


def _admin_may_send(method: str, template: str) -> bool:
    return not (method != "GET" and GLOBAL_SETTINGS.match(template))


@pytest.mark.parametrize(
    ("backend", "caller"), [("sqlite", "admin"), ("sqlite", "unprivileged"), ("postgresql", "admin")]
)
def test_hostile_values_in_every_parameter_and_body_field_get_specific_refusals_and_no_server_error(
    backend: str,
    caller: str,
    request: pytest.FixtureRequest,
    shared_broker: RunningBroker,
    hub_app: FastAPI,
    issue_identity: IdentityFactory,
) -> None:
    routes = [context for context in iter_route_contexts(hub_app.routes) if context.methods]
    assert len(routes) >= MINIMUM_ROUTES
    if backend == "sqlite":
        target = FuzzedHub(request.getfixturevalue("shared_hub"), shared_broker.admin_connection)
    else:
        target = request.getfixturevalue("postgresql_hub")
    owned = _owned(target.hub, target.admin)
    connection = target.admin if caller == "admin" else issue_identity(domain=owned.domain)
    may_send = _admin_may_send if caller == "admin" else lambda _method, _template: True
    cases = list(_cases(hub_app, _baseline(owned), may_send))
    verdicts = Verdicts()
    started = time.monotonic()
    with hub_http_client(target.hub, connection) as client:
        _run(client, cases, _registry_error_codes(), verdicts)
    elapsed_s = time.monotonic() - started
    report = "\n".join(verdicts.failures[:40])
    assert not verdicts.failures, f"{len(verdicts.failures)} of {len(cases)} cases ({elapsed_s:.0f} s):\n{report}"
    # Every route with a parameter or a body was fuzzed (the global settings aside, for the admin).
    declared = {f"{case.method} {case.template}" for case in cases}
    assert verdicts.fuzzed_routes == declared
    assert len(declared) >= (40 if caller == "admin" else 45), sorted(declared)
