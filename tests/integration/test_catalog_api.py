"""The catalog through the running hub over mTLS: registering, finding and reading streams, owning their
subjects, bad input, races, and a hub killed in the middle of a registration."""

import json
import logging
import os
import signal
import stat
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from headwater.local import hub as hub_server
from headwater.local import processes
from headwater.producers.connection import HubConnection, MtlsConnection
from headwater.producers.errors import StreamNotWritableError
from headwater.producers.stream_producer import StreamProducer
from headwater.registry.ca.authority import new_signing_request
from headwater.registry.kafka_acls import current_bindings, producer_bindings
from headwater.registry.kafka_topics import topic_exists
from tests.conftest import IdentityFactory, RunningBroker, RunningHub
from tests.hub_helpers import hub_http_client, run_cli
from tests.integration.test_stream_registration import KEY, VALUE, spec
from tests.kafka_helpers import produce_one, read_values


@pytest.fixture
def admin(shared_hub: RunningHub, shared_broker: RunningBroker) -> Iterator[httpx.Client]:
    with hub_http_client(shared_hub, shared_broker.admin_connection) as client:
        yield client


@pytest.fixture
def domain(admin: httpx.Client) -> str:
    name = f"d{uuid.uuid4().hex[:10]}"
    response = admin.post("/api/v1/domains", json={"name": name, "owning_team": "team", "contact": "t@example.com"})
    assert response.status_code == 201, response.text
    return name


def _error(response: httpx.Response, status: int, code: int, *fragments: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code, body
    for fragment in fragments:
        assert fragment in body["message"], body["message"]


def test_a_domain_team_registers_a_stream_finds_it_reads_its_offsets_and_publishes(
    shared_hub: RunningHub, admin: httpx.Client, domain: str, issue_identity: IdentityFactory
) -> None:
    team = issue_identity(domain=domain)
    name = f"{domain}.order"
    marker = f"zz{uuid.uuid4().hex[:8]}"
    value = {**VALUE, "fields": [*VALUE["fields"]]}
    value["fields"][1] = {
        **VALUE["fields"][1],
        "type": {
            "type": "record",
            "name": "Buyer",
            "fields": [
                {"name": "email", "type": "string", "doc": "Contact address.", "tags": ["pii"]},
                {"name": marker, "type": "string", "default": "", "doc": "A field only this stream has."},
            ],
        },
    }
    with hub_http_client(shared_hub, team) as client:
        registered = client.post("/api/v1/streams", json=spec(name, value_schema=json.dumps(value), tags=["finance"]))
        assert registered.status_code == 201, registered.text
        assert registered.json()["owner"] == team.certificate_file.stem
        assert registered.json()["owner_certificate"] is None  # the caller already holds a certificate

        found = client.get("/api/v1/streams", params={"q": marker}).json()
        assert [item["name"] for item in found["items"]] == [name]
        assert found["items"][0]["has_pii"] is True and found["items"][0]["tags"] == ["finance"]

        assert produce_one(team, name, key=b"order-1", value=b"v1").delivered
        detail = client.get(f"/api/v1/streams/{name}").json()
    live = detail["live"]
    assert [partition["partition"] for partition in live["partitions"]] == [0, 1, 2]
    assert sum(partition["latest"] - partition["earliest"] for partition in live["partitions"]) == 1
    assert live["config"]["cleanup.policy"] == "compact" and live["config"]["retention.ms"] == "-1"
    assert live["size_source"] == "log folders" and live["size_bytes"] > 0
    assert [version["version"] for version in detail["value_versions"]] == [1]
    assert {field["path"] for field in detail["fields"]} >= {"buyer.email", f"buyer.{marker}", "order_id"}
    assert detail["summary"]["state"] == "REGISTERED" and detail["compatibility"] == "FULL_TRANSITIVE"


def test_the_admin_registers_for_a_new_owner_whose_certificate_comes_back_once_and_works(
    admin: httpx.Client, domain: str, shared_broker: RunningBroker, tmp_path: Path
) -> None:
    name, owner = f"{domain}.refund", f"{domain}-refunds"
    registered = admin.post("/api/v1/streams", json=spec(name, owner=owner))
    assert registered.status_code == 201, registered.text
    certificate = registered.json()["owner_certificate"]
    assert certificate["identity"] == owner
    (tmp_path / "owner.crt").write_text(certificate["certificate_pem"])
    (tmp_path / "owner.key").write_text(certificate["private_key_pem"])
    connection = MtlsConnection(
        shared_broker.bootstrap_servers, shared_broker.settings.ca_file, tmp_path / "owner.crt", tmp_path / "owner.key"
    )

    assert produce_one(connection, name).delivered
    other = produce_one(connection, f"{domain}.elsewhere", timeout_s=5)
    assert not other.delivered


def test_stream_subjects_belong_to_the_owner_and_the_key_schema_is_frozen(
    shared_hub: RunningHub, admin: httpx.Client, domain: str, issue_identity: IdentityFactory
) -> None:
    team, stranger = issue_identity(domain=domain), issue_identity(domain=domain)
    name = f"{domain}.order"
    with hub_http_client(shared_hub, team) as client:
        assert client.post("/api/v1/streams", json=spec(name)).status_code == 201
        value_v2 = {
            **VALUE,
            "fields": [*VALUE["fields"], {"name": "note", "type": "string", "default": "", "doc": "Free text."}],
        }
        evolved = client.post(f"/subjects/{name}-value/versions", json={"schema": json.dumps(value_v2)})
        assert evolved.status_code == 200, evolved.text
        # The catalog follows the latest version: its new field is searchable.
        found = client.get("/api/v1/streams", params={"q": "note", "domain": domain}).json()["items"]
        assert [item["name"] for item in found] == [name]
        new_key = {
            **KEY,
            "fields": [*KEY["fields"], {"name": "region", "type": "string", "default": "eu", "doc": "R."}],
        }
        _error(
            client.post(f"/subjects/{name}-key/versions", json={"schema": json.dumps(new_key)}),
            422,
            42231,
            "key schema of stream",
            "frozen",
        )
        _error(client.delete(f"/subjects/{name}-value"), 422, 42233, f"belongs to stream '{name}'")
        diff = client.get(f"/api/v1/streams/{name}/diff", params={"from_version": 1, "to_version": 2}).json()
        assert [(change["path"], change["change"]) for change in diff] == [("note", "added")]
    with hub_http_client(shared_hub, stranger) as client:
        _error(client.post(f"/subjects/{name}-value/versions", json={"schema": json.dumps(value_v2)}), 403, 40301)


@pytest.mark.parametrize(
    ("change", "status", "code", "fragment"),
    [
        ({"name": "orders"}, 422, 42230, "has no '.'"),
        ({"name": "Payments.Order"}, 422, 42230, "domain 'Payments'"),
        ({"name": "nowhere.order"}, 404, 40430, "Domain 'nowhere' does not exist"),
        ({"value_schema": '{"type": "record", "name": "R"}'}, 422, 42201, "fields"),
        ({"partitions": 0}, 422, 42200, "partitions"),
        ({"colour": "blue"}, 422, 42200, "colour"),
        ({"compatibility": "SIDEWAYS"}, 422, 42203, "SIDEWAYS"),
        ({"topic_config": {"cleanup.policy": "delete"}}, 422, 42290, "source-stream-compacted-forever"),
        ({"topic_config": {"min.cleanable.dirty.ratio": "7"}}, 422, 42236, "min.cleanable.dirty.ratio"),
        ({"topic_config": {"no.such.setting": "1"}}, 422, 42236, "no.such.setting"),
    ],
)
def test_bad_registrations_are_refused_with_a_stable_code_and_leave_nothing(
    admin: httpx.Client,
    shared_broker: RunningBroker,
    domain: str,
    change: dict[str, object],
    status: int,
    code: int,
    fragment: str,
) -> None:
    body = {**spec(f"{domain}.order", owner=f"{domain}-svc"), **change}
    _error(admin.post("/api/v1/streams", json=body), status, code, fragment)
    assert admin.get("/api/v1/streams", params={"domain": domain}).json()["items"] == []
    assert not topic_exists(shared_broker.admin(), f"{domain}.order")


def test_other_domains_and_duplicates_are_refused(
    shared_hub: RunningHub, admin: httpx.Client, domain: str, issue_identity: IdentityFactory
) -> None:
    with hub_http_client(shared_hub, issue_identity(domain="elsewhere")) as outsider:
        _error(outsider.post("/api/v1/streams", json=spec(f"{domain}.order")), 403, 40330, "register streams of")
        _error(outsider.post("/api/v1/domains", json={"name": "mine", "owning_team": "t", "contact": "c"}), 403, 40330)
    assert admin.post("/api/v1/streams", json=spec(f"{domain}.order", owner=f"{domain}-svc")).status_code == 201
    _error(admin.post("/api/v1/streams", json=spec(f"{domain}.order")), 409, 40930, "already exists (REGISTERED)")
    _error(admin.get("/api/v1/streams/nowhere.order"), 404, 40431)


def test_fifty_concurrent_registrations_of_ten_names_register_each_once(
    shared_hub: RunningHub, shared_broker: RunningBroker, admin: httpx.Client, domain: str
) -> None:
    names = [f"{domain}.entity{index}" for index in range(10)]
    attempts = [names[index % 10] for index in range(50)]

    def register(name: str) -> httpx.Response:
        with hub_http_client(shared_hub, shared_broker.admin_connection) as client:
            return client.post("/api/v1/streams", json=spec(name, owner=f"{domain}-svc", partitions=2))

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(register, attempts))

    unexpected = [response.text for response in responses if response.status_code not in (201, 409)]
    assert unexpected == []
    assert sorted(response.status_code for response in responses) == [201] * 10 + [409] * 40
    broker_admin = shared_broker.admin()
    metadata = broker_admin.list_topics(timeout=10).topics
    for name in names:
        assert len(metadata[name].partitions) == 2
    listed = admin.get("/api/v1/streams", params={"domain": domain, "limit": 50}).json()["items"]
    assert sorted(item["name"] for item in listed) == sorted(names)
    assert all(item["state"] == "REGISTERED" for item in listed)


def test_search_pages_by_cursor_in_both_orders(admin: httpx.Client, domain: str) -> None:
    names = [f"{domain}.e{index}" for index in range(5)]
    for name in names:
        assert admin.post("/api/v1/streams", json=spec(name, owner=f"{domain}-svc", partitions=1)).status_code == 201

    for sort, expected in (
        ("name", names),
        ("-name", names[::-1]),
        ("created_at", names),
        ("-created_at", names[::-1]),
    ):
        seen, cursor = [], None
        while True:
            params = {"domain": domain, "limit": 2, "sort": sort, **({"cursor": cursor} if cursor else {})}
            page = admin.get("/api/v1/streams", params=params).json()
            seen += [item["name"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == expected, sort
    _error(admin.get("/api/v1/streams", params={"cursor": "not-a-cursor"}), 422, 42234, "cursor")
    _error(admin.get("/api/v1/streams", params={"limit": 0}), 422, 42200, "limit")


def test_a_hub_killed_mid_registration_is_cleaned_up_by_the_next_hub(
    shared_broker: RunningBroker, admin: httpx.Client, domain: str
) -> None:
    name, owner = f"{domain}.order", f"{domain}-svc"
    settings = shared_broker.settings.model_copy(update={"fault_injection": "acls:hang", "registration_lease_s": 3.0})
    port = processes.free_port()
    base_url = f"https://127.0.0.1:{port}"
    pid = hub_server.start_background(settings, port)
    try:
        hub_server.wait_until_healthy(settings, pid, base_url, timeout_s=60)
        hub = RunningHub(base_url, settings.ca_file)
        outcome: list[object] = []

        def register() -> None:
            try:
                with hub_http_client(hub, shared_broker.admin_connection) as client:
                    outcome.append(client.post("/api/v1/streams", json=spec(name, owner=owner)).status_code)
            except httpx.TransportError as exc:
                outcome.append(exc)

        thread = threading.Thread(target=register)
        thread.start()
        broker_admin = shared_broker.admin()
        deadline = time.monotonic() + 60
        while not set(producer_bindings(owner, name)) <= current_bindings(broker_admin):
            assert time.monotonic() < deadline, "the registration never reached its ACL step"
            time.sleep(0.2)
        os.kill(pid, signal.SIGKILL)
        thread.join(timeout=30)
        assert outcome and isinstance(outcome[0], httpx.TransportError), outcome
    finally:
        processes.stop_process(pid)

    # Every hub on this database reconciles; the shared one alone would wait for its slower interval.
    restarted_port = processes.free_port()
    restarted = hub_server.start_background(settings.model_copy(update={"fault_injection": ""}), restarted_port)
    try:
        deadline = time.monotonic() + 60
        while topic_exists(shared_broker.admin(), name) or admin.get(f"/api/v1/streams/{name}").status_code != 404:
            assert time.monotonic() < deadline, "the reconciler did not undo the interrupted registration"
            time.sleep(0.5)
    finally:
        processes.stop_process(restarted)
    assert not set(producer_bindings(owner, name)) & current_bindings(shared_broker.admin())
    assert admin.get("/subjects", params={"subjectPrefix": name}).json() == []
    audit = admin.get("/api/v1/audit", params={"target": name}).json()
    assert audit[0]["actor"] == "headwater" and "undone by the reconciler" in audit[0]["details"]["reason"]
    # Nothing is in the way of registering it again.
    assert admin.post("/api/v1/streams", json=spec(name, owner=owner)).status_code == 201


def test_domains_and_streams_from_the_cli(shared_hub: RunningHub, shared_broker: RunningBroker, tmp_path: Path) -> None:
    domain = f"c{uuid.uuid4().hex[:10]}"
    created = run_cli(
        shared_hub, shared_broker, "domains", "create", domain, "--owning-team", "cli", "--contact", "c@x"
    )
    assert created.returncode == 0, created.stderr
    assert domain in run_cli(shared_hub, shared_broker, "domains", "list").stdout
    (tmp_path / "value.avsc").write_text(json.dumps(VALUE))
    (tmp_path / "spec.yaml").write_text(
        f"name: {domain}.order\ndescription: Orders from the CLI.\nowner: {domain}-svc\nowner_team: cli\n"
        "contact: c@x\npartitions: 2\ntags: [finance]\n"
        "key_schema: {type: record, name: OrderKey, fields: [{name: order_id, type: string, doc: Order id.}]}\n"
        "value_schema_file: value.avsc\n"
    )

    registered = run_cli(
        shared_hub,
        shared_broker,
        "streams",
        "register",
        str(tmp_path / "spec.yaml"),
        "--certificate-dir",
        str(tmp_path),
    )
    assert registered.returncode == 0, registered.stderr
    assert f"Stream {domain}.order is REGISTERED" in registered.stdout
    assert (tmp_path / f"{domain}-svc.crt").is_file() and (tmp_path / f"{domain}-svc.key").stat().st_mode & 0o077 == 0

    listed = run_cli(shared_hub, shared_broker, "streams", "list", "--domain", domain, "--pii")
    assert f"{domain}.order" in listed.stdout and "finance" in listed.stdout
    shown = run_cli(shared_hub, shared_broker, "streams", "show", f"{domain}.order")
    assert shown.returncode == 0, shown.stderr
    assert "cleanup.policy=compact" in shown.stdout and "buyer.email" in shown.stdout
    assert f"{domain}.order-value: v1" in shown.stdout

    again = run_cli(shared_hub, shared_broker, "streams", "register", str(tmp_path / "spec.yaml"))
    assert again.returncode == 1 and "already exists (REGISTERED)" in again.stderr and "Traceback" not in again.stderr
    missing = run_cli(shared_hub, shared_broker, "streams", "show", f"{domain}.nothing")
    assert missing.returncode == 1 and "does not exist" in missing.stderr

    # A sunset 1.7 s away, so the deletion can follow within the test.
    deprecated = run_cli(
        shared_hub,
        shared_broker,
        "streams",
        "deprecate",
        f"{domain}.order",
        "--message",
        "Use v2.",
        "--days",
        "0.00002",
    )
    assert deprecated.returncode == 0 and "is DEPRECATED until" in deprecated.stdout, deprecated.stderr
    time.sleep(2.0)
    deleted = run_cli(shared_hub, shared_broker, "streams", "delete", f"{domain}.order", "--delete-topic")
    assert deleted.returncode == 0, deleted.stderr
    assert f"{domain}.order is DELETED; its topic was deleted." in deleted.stdout


def test_access_is_requested_approved_consumed_revoked_and_refused_and_a_revoked_owner_cannot_produce(
    shared_hub: RunningHub,
    shared_broker: RunningBroker,
    admin: httpx.Client,
    domain: str,
    issue_identity: IdentityFactory,
) -> None:
    owner, consumer = issue_identity(domain=domain), issue_identity(domain="analytics")
    owner_name, consumer_name = owner.certificate_file.stem, consumer.certificate_file.stem
    name = f"{domain}.order"
    with hub_http_client(shared_hub, owner) as owner_client:
        assert owner_client.post("/api/v1/streams", json=spec(name)).status_code == 201
    assert produce_one(owner, name, key=b"order-1", value=b"paid").delivered

    with hub_http_client(shared_hub, consumer) as consumer_client:
        # The value schema holds a pii-tagged field: a request without a purpose breaks `pii-requires-purpose`.
        _error(consumer_client.post(f"/api/v1/streams/{name}/access", json={"purpose": " "}), 422, 42290, "purpose")
        requested = consumer_client.post(f"/api/v1/streams/{name}/access", json={"purpose": "fraud scoring"})
        assert requested.status_code == 201, requested.text
        grant = requested.json()
        assert grant["state"] == "REQUESTED"
        _error(consumer_client.post(f"/api/v1/access/{grant['id']}/approve"), 403, 40330, "its owner does")
        _error(
            consumer_client.post(f"/api/v1/streams/{name}/access", json={"purpose": "again"}), 409, 40935, "REQUESTED"
        )
    with pytest.raises(AssertionError, match="AUTHORIZATION_FAILED"):
        read_values(consumer, name, f"{consumer_name}.before", count=1, timeout_s=10)

    with hub_http_client(shared_hub, owner) as owner_client:
        approved = owner_client.post(f"/api/v1/access/{grant['id']}/approve")
        assert approved.status_code == 200 and approved.json()["state"] == "APPROVED", approved.text
        _error(owner_client.post(f"/api/v1/access/{grant['id']}/deny"), 409, 40934, "APPROVED")
    assert read_values(consumer, name, f"{consumer_name}.scoring", count=1) == [b"paid"]
    detail = admin.get(f"/api/v1/streams/{name}").json()
    assert [item["identity"] for item in detail["consumers"]] == [consumer_name]

    with hub_http_client(shared_hub, owner) as owner_client:
        revoked = owner_client.post(f"/api/v1/access/{grant['id']}/revoke")
        assert revoked.status_code == 200 and revoked.json()["state"] == "REVOKED", revoked.text
    with pytest.raises(AssertionError, match="AUTHORIZATION_FAILED"):
        read_values(consumer, name, f"{consumer_name}.after", count=1, timeout_s=10)
    # The owner still writes its stream: revoking a consumer leaves the owner's rights alone.
    assert produce_one(owner, name, key=b"order-2", value=b"paid").delivered

    with hub_http_client(shared_hub, issue_identity(domain="elsewhere")) as outsider:
        _error(outsider.post(f"/api/v1/identities/{owner_name}/revoke"), 403, 40340, "same domain")
    revoked_owner = admin.post(f"/api/v1/identities/{owner_name}/revoke")
    assert revoked_owner.status_code == 200 and revoked_owner.json()["revoked_at"] is not None, revoked_owner.text
    refused = produce_one(owner, name, key=b"order-3", value=b"paid", timeout_s=5)
    assert not refused.delivered
    with hub_http_client(shared_hub, owner) as owner_client:
        _error(owner_client.get("/api/v1/identity"), 401, 40101, "revoked")
    actions = [entry["action"] for entry in admin.get("/api/v1/audit", params={"target": name}).json()]
    assert actions[:4] == ["access.revoke", "access.approve", "access.request", "access.request"]


def test_a_domain_issues_renews_and_lists_its_identities(
    shared_hub: RunningHub, admin: httpx.Client, domain: str, issue_identity: IdentityFactory, tmp_path: Path
) -> None:
    worker = f"{domain}-worker"
    csr_pem, key_pem = new_signing_request(worker)
    with hub_http_client(shared_hub, issue_identity(domain=domain)) as member:
        issued = member.post("/api/v1/identities", json={"name": worker, "domain": domain, "csr_pem": csr_pem.decode()})
        assert issued.status_code == 201, issued.text
        assert "BEGIN CERTIFICATE" in issued.json()["certificate_pem"]
        assert "private_key_pem" not in issued.json()  # the key was made here and never sent
        other = {"name": "x-worker", "domain": "other", "csr_pem": new_signing_request("x-worker")[0].decode()}
        _error(member.post("/api/v1/identities", json=other), 403, 40340)
        listed = member.get("/api/v1/identities", params={"domain": domain}).json()
        assert worker in [item["name"] for item in listed]
    (tmp_path / "worker.crt").write_text(issued.json()["certificate_pem"])
    (tmp_path / "worker.key").write_bytes(key_pem)
    connection = MtlsConnection("", shared_hub.ca_file, tmp_path / "worker.crt", tmp_path / "worker.key")
    with hub_http_client(shared_hub, connection) as itself:
        renewal = {"csr_pem": new_signing_request(worker)[0].decode()}
        renewed = itself.post(f"/api/v1/identities/{worker}/renew", json=renewal)
        assert renewed.status_code == 200 and renewed.json()["serial"] != issued.json()["serial"], renewed.text
    _error(admin.post("/api/v1/identities/headwater-admin/revoke"), 403, 40341, "platform identity")
    _error(admin.post("/api/v1/identities/no-such-identity/renew", json=renewal), 404, 40410)
    bad_name = {"name": "Bad_Name", "domain": domain, "csr_pem": renewal["csr_pem"]}
    _error(admin.post("/api/v1/identities", json=bad_name), 422, 42210, "invalid")


def test_access_and_identities_from_the_cli(
    shared_hub: RunningHub, shared_broker: RunningBroker, admin: httpx.Client, domain: str, tmp_path: Path
) -> None:
    name = f"{domain}.order"
    assert admin.post("/api/v1/streams", json=spec(name, owner=f"{domain}-svc")).status_code == 201
    issued = run_cli(
        shared_hub, shared_broker, "identities", "issue", f"{domain}-reader", "--domain", domain, "--out", str(tmp_path)
    )
    assert issued.returncode == 0, issued.stderr
    reader = MtlsConnection(
        shared_broker.bootstrap_servers,
        shared_broker.settings.ca_file,
        tmp_path / f"{domain}-reader.crt",
        tmp_path / f"{domain}-reader.key",
    )

    # The identity renews itself from the CLI: a new key pair made here, the old certificate revoked later.
    renewed = run_cli(
        shared_hub,
        shared_broker,
        "identities",
        "renew",
        f"{domain}-reader",
        "--out",
        str(tmp_path / "renewed"),
        identity=reader,
    )
    assert renewed.returncode == 0 and "key made here" in renewed.stdout, renewed.stderr
    assert stat.S_IMODE((tmp_path / "renewed" / f"{domain}-reader.key").stat().st_mode) == 0o600
    old_serial = format(x509.load_pem_x509_certificate(reader.certificate_file.read_bytes()).serial_number, "x")
    reader = MtlsConnection(
        shared_broker.bootstrap_servers,
        shared_broker.settings.ca_file,
        tmp_path / "renewed" / f"{domain}-reader.crt",
        tmp_path / "renewed" / f"{domain}-reader.key",
    )
    gone_now = run_cli(shared_hub, shared_broker, "identities", "revoke-certificate", old_serial, identity=reader)
    assert gone_now.returncode == 0 and f"Revoked certificate {old_serial}" in gone_now.stdout, gone_now.stderr

    requested = run_cli(shared_hub, shared_broker, "access", "request", name, "--purpose", "reporting", identity=reader)
    assert requested.returncode == 0, requested.stderr
    grant_id = requested.stdout.split("Access grant ", 1)[1].split(":", 1)[0]
    listed = run_cli(shared_hub, shared_broker, "access", "list", "--stream", name)
    assert f"{domain}-reader" in listed.stdout and "REQUESTED" in listed.stdout
    refused = run_cli(shared_hub, shared_broker, "access", "approve", grant_id, identity=reader)
    assert refused.returncode == 1 and "its owner does" in refused.stderr
    approved = run_cli(shared_hub, shared_broker, "access", "approve", grant_id)
    assert approved.returncode == 0 and "is APPROVED" in approved.stdout, approved.stderr
    revoked = run_cli(shared_hub, shared_broker, "access", "revoke", grant_id, identity=reader)
    assert revoked.returncode == 0 and "is REVOKED" in revoked.stdout, revoked.stderr

    gone = run_cli(shared_hub, shared_broker, "identities", "revoke", f"{domain}-reader")
    assert gone.returncode == 0 and f"Revoked identity {domain}-reader" in gone.stdout, gone.stderr
    listing = run_cli(shared_hub, shared_broker, "identities", "list", "--domain", domain).stdout
    assert f"{domain}-reader" in listing
    records = {item["name"]: item for item in admin.get("/api/v1/identities", params={"domain": domain}).json()}
    assert records[f"{domain}-reader"]["revoked_at"] is not None


def test_a_stream_is_deprecated_then_deleted_after_its_sunset_leaving_no_acl(
    shared_hub: RunningHub,
    shared_broker: RunningBroker,
    admin: httpx.Client,
    domain: str,
    issue_identity: IdentityFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner, consumer = issue_identity(domain=domain), issue_identity(domain="analytics")
    name = f"{domain}.order"
    with hub_http_client(shared_hub, owner) as owner_client:
        assert owner_client.post("/api/v1/streams", json=spec(name)).status_code == 201
    with hub_http_client(shared_hub, consumer) as consumer_client:
        grant = consumer_client.post(f"/api/v1/streams/{name}/access", json={"purpose": "reporting"}).json()
    assert admin.post(f"/api/v1/access/{grant['id']}/approve").status_code == 200

    with hub_http_client(shared_hub, owner) as owner_client:
        _error(owner_client.delete(f"/api/v1/streams/{name}"), 409, 40936, "deprecate it with a sunset date first")
        past = {"sunset_at": "2020-01-01T00:00:00+00:00", "message": "Use orders-v2."}
        _error(owner_client.post(f"/api/v1/streams/{name}/deprecate", json=past), 422, 42235, "in the past")
        sunset = datetime.now(UTC) + timedelta(seconds=3)
        deprecation = {"sunset_at": sunset.isoformat(), "message": f"Use {domain}.order-v2 instead."}
        deprecated = owner_client.post(f"/api/v1/streams/{name}/deprecate", json=deprecation)
        assert deprecated.status_code == 200, deprecated.text
        _error(owner_client.delete(f"/api/v1/streams/{name}"), 409, 40936, "before its sunset")
    with hub_http_client(shared_hub, consumer) as consumer_client:
        summary = consumer_client.get(f"/api/v1/streams/{name}").json()["summary"]
        assert summary["state"] == "DEPRECATED" and summary["deprecation_message"] == f"Use {domain}.order-v2 instead."
        _error(consumer_client.delete(f"/api/v1/streams/{name}"), 403, 40330, "its owner may")
    owner_hub = HubConnection(shared_hub.base_url, owner.ca_file, owner.certificate_file, owner.key_file)
    with caplog.at_level(logging.WARNING, logger="headwater.producers.stream_producer"):
        with StreamProducer.open(name, owner_hub, owner) as producer:  # publishers are told, not stopped
            producer.send({"order_id": "o-1"}, {"order_id": "o-1", "buyer": {"email": "a@b.io"}, "amount_minor": 5})
    assert f"'{name}' is DEPRECATED and will be deleted after " in caplog.text
    assert f"Use {domain}.order-v2 instead." in caplog.text

    time.sleep(max(0.0, (sunset - datetime.now(UTC)).total_seconds()) + 0.2)
    with hub_http_client(shared_hub, owner) as owner_client:
        deleted = owner_client.delete(f"/api/v1/streams/{name}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"name": name, "state": "DELETED", "topic_deleted": False}
    with pytest.raises(StreamNotWritableError, match="is DELETED"):
        StreamProducer.open(name, owner_hub, owner)

    bindings = current_bindings(shared_broker.admin())
    assert not [binding for binding in bindings if binding.name == name]
    assert topic_exists(shared_broker.admin(), name)  # kept: deleting records needs delete_topic=true
    assert admin.get("/subjects", params={"subjectPrefix": name}).json() == []
    assert admin.get("/subjects", params={"subjectPrefix": name, "deleted": "true"}).json() == [
        f"{name}-key",
        f"{name}-value",
    ]
    assert admin.get("/api/v1/access", params={"stream": name}).json()[0]["state"] == "REVOKED"
    assert admin.get("/api/v1/streams", params={"domain": domain}).json()["items"] == []
    assert (
        admin.get("/api/v1/streams", params={"domain": domain, "state": "DELETED"}).json()["items"][0]["name"] == name
    )
    _error(admin.post("/api/v1/streams", json=spec(name, owner=owner.certificate_file.stem)), 409, 40930, "DELETED")


def test_deleting_with_delete_topic_removes_the_topic_too(
    shared_broker: RunningBroker, admin: httpx.Client, domain: str
) -> None:
    name = f"{domain}.order"
    assert admin.post("/api/v1/streams", json=spec(name, owner=f"{domain}-svc")).status_code == 201
    sunset = datetime.now(UTC) + timedelta(seconds=1)
    deprecation = {"sunset_at": sunset.isoformat(), "message": "Gone."}
    assert admin.post(f"/api/v1/streams/{name}/deprecate", json=deprecation).status_code == 200
    time.sleep(max(0.0, (sunset - datetime.now(UTC)).total_seconds()) + 0.2)

    deleted = admin.delete(f"/api/v1/streams/{name}", params={"delete_topic": "true"})

    assert deleted.status_code == 200 and deleted.json()["topic_deleted"] is True, deleted.text
    assert not topic_exists(shared_broker.admin(), name)


def test_nul_characters_are_refused_with_a_clear_error_on_both_databases(admin: httpx.Client) -> None:
    # PostgreSQL text cannot hold U+0000; the hub refuses it at the edge for every database alike.
    _error(admin.get("/api/v1/streams", params={"q": "a\x00b"}), 422, 42252, "NUL character", "query")
    domain = {"name": "x", "owning_team": "a\x00", "contact": "c"}
    _error(admin.post("/api/v1/domains", json=domain), 422, 42252, "NUL character", "body (at /owning_team)")
    _error(admin.get("/api/v1/streams/a%00b"), 422, 42252, "NUL character", "path")
    # Inside schema text a NUL is an escape (`\u0000`), stored as such: bytes defaults need it.
    schema = {"type": "record", "name": "R", "fields": [{"name": "b", "type": "bytes", "default": "\u00ff\x00"}]}
    assert admin.post("/subjects/nul-test-value/versions", json={"schema": json.dumps(schema)}).status_code == 200
    # An escaped backslash followed by u0000 is an ordinary string.
    plain = json.dumps({"type": "record", "name": "R", "doc": "a\\u0000b", "fields": []})
    check = {"schema_version": {"subject": "x-value", "schema": plain}}
    assert admin.post("/api/v1/policies/check", json=check).status_code == 200


def test_a_job_records_the_lineage_of_streams_its_owner_may_read_and_write(
    shared_hub: RunningHub, admin: httpx.Client, domain: str, issue_identity: IdentityFactory
) -> None:
    source_owner, job_owner = issue_identity(domain=domain), issue_identity(domain=domain)
    source, derived = f"{domain}.order", f"{domain}.order-totals"
    with hub_http_client(shared_hub, source_owner) as client:
        assert client.post("/api/v1/streams", json=spec(source)).status_code == 201
    with hub_http_client(shared_hub, job_owner) as client:
        assert client.post("/api/v1/streams", json=spec(derived)).status_code == 201
        job = {"name": f"{domain}-totals", "inputs": [source], "outputs": [derived]}
        _error(client.post("/api/v1/jobs", json=job), 403, 40331, "approved access grant")
        grant = client.post(f"/api/v1/streams/{source}/access", json={"purpose": "totals"}).json()
        assert admin.post(f"/api/v1/access/{grant['id']}/approve").status_code == 200
        registered = client.post("/api/v1/jobs", json=job)
        assert registered.status_code == 201, registered.text
        assert registered.json()["inputs"] == [source] and registered.json()["outputs"] == [derived]
        _error(client.post("/api/v1/jobs", json=job), 409, 40937)
        writes_other = {"name": f"{domain}-bad", "outputs": [source]}
        _error(client.post("/api/v1/jobs", json=writes_other), 403, 40331, "must own it")
        _error(client.post("/api/v1/jobs", json={"name": f"{domain}-x", "inputs": ["nowhere.x"]}), 404, 40431)
    lineage = admin.get(f"/api/v1/streams/{source}").json()["lineage"]
    assert lineage == [{"job": f"{domain}-totals", "owner": job_owner.certificate_file.stem, "direction": "input"}]
    assert f"{domain}-totals" in [item["name"] for item in admin.get("/api/v1/jobs").json()]
