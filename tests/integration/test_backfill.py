"""Backfill, manifests and certification against the real broker, hub and source databases: a table
published and certified, stale keys reconciled, bad manifests and sources refused, and drift
(records deleted, retention changed, foreign tombstones) turning a certified stream DEGRADED."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import time
import uuid
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Producer, TopicPartition
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

from headwater.ledger import open_hub_database
from headwater.local.hub import LocalAdminClients
from headwater.producers.backfill import CHECKPOINT_FILE, Backfill, BackfillReport
from headwater.producers.backfill_sources import FieldMapping, IterableSource, JsonLinesSource, SqlSource
from headwater.producers.connection import HubConnection, MtlsConnection
from headwater.producers.errors import CheckpointMismatchError, DuplicateKeyError, SourceError
from headwater.producers.stream_producer import StreamProducer
from headwater.registry.database import sqlite_url
from headwater.registry.streams.certification import StreamCertifier
from headwater.registry.streams.content_digest import ContentDigest, Entry, encode_entries
from headwater.registry.streams.manifests import ManifestBook
from tests.conftest import IdentityFactory, RunningBroker, RunningHub
from tests.hub_helpers import fresh_domain, hub_http_client, run_cli

ACCOUNT_KEY = {"type": "record", "name": "AccountKey", "fields": [{"name": "account_id", "type": "long", "doc": "Id."}]}
ACCOUNT = {
    "type": "record",
    "name": "Account",
    "fields": [
        {"name": "account_id", "type": "long", "doc": "Id."},
        {"name": "holder", "type": "string", "doc": "Who holds it."},
        {"name": "balance_minor", "type": "long", "doc": "Balance in minor units."},
        {"name": "currency", "type": "string", "doc": "ISO 4217 code."},
    ],
}
FIELDS = FieldMapping(["account_id"], ["account_id", "holder", "balance_minor", "currency"], {})


@pytest.fixture
def owner(shared_hub: RunningHub, shared_broker: RunningBroker, issue_identity: IdentityFactory) -> MtlsConnection:
    return issue_identity(domain=fresh_domain(shared_hub, shared_broker))


def register_accounts(hub: RunningHub, owner: MtlsConnection, partitions: int = 3) -> str:
    with hub_http_client(hub, owner) as client:
        domain = client.get("/api/v1/identity").json()["domain"]
        name = f"{domain}.accounts-{uuid.uuid4().hex[:6]}"
        spec = {
            "name": name,
            "description": "Customer accounts.",
            "owner_team": "ledger",
            "contact": "ledger@example.com",
            "partitions": partitions,
            "key_schema": json.dumps(ACCOUNT_KEY),
            "value_schema": json.dumps(ACCOUNT),
        }
        registered = client.post("/api/v1/streams", json=spec)
        assert registered.status_code == 201, registered.text
    return name


def hub_of(hub: RunningHub, identity: MtlsConnection) -> HubConnection:
    return HubConnection(hub.base_url, identity.ca_file, identity.certificate_file, identity.key_file)


def account_rows(count: int, start: int = 1) -> list[tuple[int, str, int, str]]:
    return [(number, f"holder-{number}", number * 7, "EUR") for number in range(start, start + count)]


def sqlite_accounts(path: Path, rows: list[tuple[int, str, int, str]]) -> str:
    with sqlite3.connect(path) as database:
        database.execute(
            "CREATE TABLE accounts (account_id INTEGER PRIMARY KEY, holder TEXT, balance_minor INTEGER, currency TEXT)"
        )
        database.executemany("INSERT INTO accounts VALUES (?, ?, ?, ?)", rows)
    return sqlite_url(path)


def backfill(
    hub: RunningHub, owner: MtlsConnection, stream: str, source: Any, work_dir: Path, reconcile: bool = False
) -> BackfillReport:
    return Backfill(stream, hub_of(hub, owner), owner, source, work_dir, reconcile).run()


def certify(hub: RunningHub, identity: MtlsConnection, stream: str) -> httpx.Response:
    with hub_http_client(hub, identity) as client:
        return client.post(f"/api/v1/streams/{stream}/certify", timeout=600)


def checks_of(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    outcome = answer.get("certification", answer)
    return {check["check"]: check for check in outcome["checks"]}


def state_of(hub: RunningHub, identity: MtlsConnection, stream: str) -> str:
    with hub_http_client(hub, identity) as client:
        return str(client.get(f"/api/v1/streams/{stream}").json()["summary"]["state"])


def test_a_table_is_published_certified_then_reconciled_after_rows_go(
    shared_hub: RunningHub, owner: MtlsConnection, tmp_path: Path
) -> None:
    stream = register_accounts(shared_hub, owner)
    url = sqlite_accounts(tmp_path / "source.db", account_rows(5_000))

    report = backfill(
        shared_hub, owner, stream, SqlSource(url, FIELDS, table="accounts", page_size=700), tmp_path / "w"
    )

    assert (report.records, report.keys, report.resent, report.tombstones, report.runs) == (5_000, 5_000, 0, 0, 1)
    assert not (tmp_path / "w" / CHECKPOINT_FILE).exists()  # a finished backfill leaves nothing to resume
    certified = certify(shared_hub, owner, stream)
    assert certified.status_code == 200, certified.text
    assert certified.json()["state"] == "CERTIFIED"
    content = checks_of(certified.json())["content"]
    assert content["counts"]["as_published"] == 5_000 and "digest equals the manifest's" in content["message"]

    # 300 accounts closed at the source: a plain backfill leaves them live in the topic, which
    # certification refuses with counts and sample keys; --reconcile tombstones them.
    with sqlite3.connect(tmp_path / "source.db") as database:
        database.execute("DELETE FROM accounts WHERE account_id > 4700")
    backfill(shared_hub, owner, stream, SqlSource(url, FIELDS, table="accounts"), tmp_path / "w")
    refused = certify(shared_hub, owner, stream)
    assert refused.status_code == 422 and refused.json()["error_code"] == 42241, refused.text
    content = checks_of(refused.json())["content"]
    assert not content["passed"] and content["counts"]["stale"] == 300
    assert "--reconcile" in content["message"] and '{"account_id": 47' in content["message"]
    assert state_of(shared_hub, owner, stream) == "DEGRADED"  # it was certified: the failure degrades it

    report = backfill(shared_hub, owner, stream, SqlSource(url, FIELDS, table="accounts"), tmp_path / "w", True)
    assert (report.keys, report.tombstones) == (4_700, 300)
    recertified = certify(shared_hub, owner, stream)
    assert recertified.status_code == 200, recertified.text
    assert checks_of(recertified.json())["content"]["counts"]["stale"] == 0
    assert state_of(shared_hub, owner, stream) == "CERTIFIED"


def test_a_query_and_a_json_lines_file_are_sources_too(
    shared_hub: RunningHub, owner: MtlsConnection, tmp_path: Path
) -> None:
    stream = register_accounts(shared_hub, owner)
    with sqlite3.connect(tmp_path / "source.db") as database:
        database.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, cents INTEGER)")
        database.executemany("INSERT INTO people VALUES (?, ?, ?)", [(n, f"p{n}", n) for n in range(1, 1001)])
    renamed = FieldMapping(FIELDS.key_fields, FIELDS.value_fields, {"account_id": "id", "holder": "name"})
    query = "SELECT id, name, cents AS balance_minor, 'GBP' AS currency FROM people WHERE id <= 600"
    source = SqlSource(sqlite_url(tmp_path / "source.db"), renamed, query=query, page_size=128)
    assert backfill(shared_hub, owner, stream, source, tmp_path / "w").keys == 600

    lines = tmp_path / "accounts.jsonl"
    rows = [{"account_id": n, "holder": f"j{n}", "balance_minor": n, "currency": "CHF"} for n in range(1, 801)]
    lines.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    report = backfill(shared_hub, owner, stream, JsonLinesSource(lines, FIELDS), tmp_path / "w2", reconcile=True)
    assert (report.keys, report.tombstones) == (800, 0)
    assert certify(shared_hub, owner, stream).status_code == 200


def test_a_source_failing_mid_way_resumes_without_losing_a_key(
    shared_hub: RunningHub, owner: MtlsConnection, tmp_path: Path
) -> None:
    stream = register_accounts(shared_hub, owner)
    lines = tmp_path / "accounts.jsonl"
    rows = [
        json.dumps({"account_id": n, "holder": f"h{n}", "balance_minor": n, "currency": "EUR"}) for n in range(1, 3001)
    ]
    rows[1999] = "{not json"
    lines.write_text("\n".join(rows) + "\n")
    # Checkpoints every record batch: the failure at line 2000 finds some of the 1,999 good ones saved.
    run = Backfill(
        stream, hub_of(shared_hub, owner), owner, JsonLinesSource(lines, FIELDS), tmp_path / "w", checkpoint_every_s=0
    )
    with pytest.raises(SourceError, match="line 2000.*resumes at this line"):
        run.run()
    saved = json.loads((tmp_path / "w" / CHECKPOINT_FILE).read_text())
    assert saved["sent"] == 1_999

    rows[1999] = json.dumps(_account(2000))
    lines.write_text("\n".join(rows) + "\n")
    report = Backfill(stream, hub_of(shared_hub, owner), owner, JsonLinesSource(lines, FIELDS), tmp_path / "w").run()
    assert (report.records, report.keys, report.runs) == (3_000, 3_000, 2)
    assert certify(shared_hub, owner, stream).status_code == 200


def test_bad_sources_are_refused_with_what_to_fix(
    shared_hub: RunningHub, owner: MtlsConnection, tmp_path: Path
) -> None:
    stream = register_accounts(shared_hub, owner)
    duplicated = IterableSource([({"account_id": 1}, _account(1)), ({"account_id": 1}, _account(1))])
    with pytest.raises(DuplicateKeyError, match="gives key.*twice.*unique columns"):
        backfill(shared_hub, owner, stream, duplicated, tmp_path / "a")
    with pytest.raises(SourceError, match="no table 'missing' in sqlite:.*check --table"):
        backfill(
            shared_hub,
            owner,
            stream,
            SqlSource(sqlite_accounts(tmp_path / "s.db", []), FIELDS, table="missing"),
            tmp_path / "b",
        )
    (tmp_path / "other.jsonl").write_text("")
    with pytest.raises(CheckpointMismatchError, match="unfinished backfill of .* not of .*--restart"):
        backfill(shared_hub, owner, stream, JsonLinesSource(tmp_path / "other.jsonl", FIELDS), tmp_path / "a")


def test_a_manifest_that_does_not_add_up_or_does_not_match_the_topic_is_refused(
    shared_hub: RunningHub, owner: MtlsConnection, issue_identity: IdentityFactory
) -> None:
    stream = register_accounts(shared_hub, owner, partitions=1)
    with StreamProducer.open(stream, hub_of(shared_hub, owner), owner) as producer:
        for number in range(1, 11):
            producer.send({"account_id": number}, _account(number))
    key = producer.schemas.key.encode
    # Right keys and offsets, wrong values: consistent in itself, so registered, then refused by certify.
    entries = [Entry(key({"account_id": n}), b"\x00" * 16, 0, n - 1) for n in range(1, 11)]
    digest = ContentDigest()
    for entry in entries:
        digest.add(entry.key, entry.value_hash)
    body = _manifest_body(entries, digest, producer.schemas.key.schema_id, producer.schemas.value.schema_id)
    with hub_http_client(shared_hub, owner) as client:
        inconsistent = client.post(f"/api/v1/streams/{stream}/manifests", json={**body, "keys": 11})
        assert inconsistent.status_code == 422 and inconsistent.json()["error_code"] == 42240
        assert "counts 11 keys but its entries hold 10" in inconsistent.json()["message"]
        stranger = issue_identity(domain=client.get("/api/v1/identity").json()["domain"])
        with hub_http_client(shared_hub, stranger) as foreign:
            assert foreign.post(f"/api/v1/streams/{stream}/manifests", json=body).status_code == 403
        registered = client.post(f"/api/v1/streams/{stream}/manifests", json=body)
        assert registered.status_code == 201, registered.text
    refused = certify(shared_hub, owner, stream)
    assert refused.status_code == 422, refused.text
    content = checks_of(refused.json())["content"]
    assert content["counts"]["value_differs"] == 10 and "does not describe this topic" in content["message"]
    assert state_of(shared_hub, owner, stream) == "PUBLISHING"


def test_drift_degrades_a_certified_stream_with_the_reason(
    shared_hub: RunningHub, shared_broker: RunningBroker, owner: MtlsConnection, tmp_path: Path
) -> None:
    admin_connection = shared_broker.admin_connection
    streams = [register_accounts(shared_hub, owner, partitions=2) for _ in range(3)]
    for stream in streams:
        source = IterableSource(({"account_id": n}, _account(n)) for n in range(1, 201))
        backfill(shared_hub, owner, stream, source, tmp_path / stream)
        assert certify(shared_hub, owner, stream).status_code == 200
    records_removed, retention_changed, tombstoned = streams
    broker_admin = shared_broker.admin()
    # The broker refuses delete_records on a compacted topic (POLICY_VIOLATION): someone must turn
    # deletion on first, as here, and may turn it off again; the missing records stay missing.
    _set_topic_config(broker_admin, records_removed, "cleanup.policy", "compact,delete")
    for future in broker_admin.delete_records([TopicPartition(records_removed, 0, 5)]).values():
        future.result(30)
    _set_topic_config(broker_admin, records_removed, "cleanup.policy", "compact")
    _set_topic_config(broker_admin, retention_changed, "retention.ms", "86400000")
    with StreamProducer.open(tombstoned, hub_of(shared_hub, owner), owner) as producer:
        key = producer.schemas.key.encode({"account_id": 7})
        producer.delete({"account_id": 8})  # the owner's own delete: fine
    raw = Producer(admin_connection.client_config())
    raw.produce(tombstoned, None, key)  # the admin's tombstone, outside the owner's producer
    raw.flush(30)

    deadline = time.monotonic() + 60
    expected = {records_removed: "earliest-offsets", retention_changed: "topic-config", tombstoned: "tombstones"}
    found: dict[str, str] = {}
    while len(found) < 3 and time.monotonic() < deadline:
        for stream, check in expected.items():
            if stream not in found and state_of(shared_hub, owner, stream) == "DEGRADED":
                message = _audit_finding(shared_hub, owner, stream, check)
                if message is not None:
                    found[stream] = message
        time.sleep(1)
    assert set(found) == set(streams), f"not DEGRADED with the reason within a minute: {set(streams) - set(found)}"
    assert "partition 0 starts at 5" in found[records_removed]
    assert "retention.ms is 86400000" in found[retention_changed]
    assert '{"account_id": 7}' in found[tombstoned] and 'account_id": 8' not in found[tombstoned]
    with hub_http_client(shared_hub, owner) as client:
        audit = client.get("/api/v1/audit", params={"target": retention_changed, "action": "stream.degraded"}).json()
        assert len(audit) == 1 and audit[0]["actor"] == "headwater-auditor"

    # Only the hub admin repairs a topic's configuration; the repair certifies the stream again.
    with hub_http_client(shared_hub, owner) as client:
        assert client.post(f"/api/v1/streams/{retention_changed}/repair-topic-config").status_code == 403
    repaired = run_cli(shared_hub, shared_broker, "streams", "repair", retention_changed)
    assert repaired.returncode == 0, repaired.stderr
    assert f"{retention_changed} is CERTIFIED" in repaired.stdout
    history = run_cli(shared_hub, shared_broker, "streams", "certifications", retention_changed)
    assert history.returncode == 0, history.stderr
    assert re.search(r"audit .* headwater-auditor .* failed .* topic-config", history.stdout), history.stdout


def _audit_finding(hub: RunningHub, identity: MtlsConnection, stream: str, check: str) -> str | None:
    """The message of the auditor's failed `check` on `stream`, if it found one."""
    with hub_http_client(hub, identity) as client:
        for row in client.get(f"/api/v1/streams/{stream}/certifications").json():
            for item in row["report"]:
                if row["kind"] == "audit" and item["check"] == check and not item["passed"]:
                    return str(item["message"])
    return None


def _set_topic_config(admin: AdminClient, topic: str, name: str, value: str) -> None:
    entry = ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[entry])
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(30)


def _account(number: int) -> dict[str, Any]:
    return {"account_id": number, "holder": f"holder-{number}", "balance_minor": number * 7, "currency": "EUR"}


def _manifest_body(entries: list[Entry], digest: ContentDigest, key_id: int, value_id: int) -> dict[str, Any]:
    return {
        "source": "hand-made",
        "keys": digest.keys,
        "key_digest": digest.key_digest,
        "entry_digest": digest.entry_digest,
        "partitions": [{"partition": 0, "start_offset": 0, "last_offset": 9}],
        "schema_ids": [key_id, value_id],
        "entries": base64.b64encode(zlib.compress(encode_entries(entries))).decode(),
    }


def test_the_content_audit_rescans_the_topic_against_the_certified_manifest(
    shared_hub: RunningHub, shared_broker: RunningBroker, owner: MtlsConnection, tmp_path: Path
) -> None:
    stream = register_accounts(shared_hub, owner, partitions=2)
    source = IterableSource(({"account_id": n}, _account(n)) for n in range(1, 301))
    backfill(shared_hub, owner, stream, source, tmp_path / "w")
    certified = certify(shared_hub, owner, stream).json()
    # The hub's own certifier, in-process on the hub's database and broker, as the auditor runs it.
    clients = LocalAdminClients(shared_broker.settings)
    sessions = open_hub_database(shared_broker.settings)
    certifier = StreamCertifier(
        sessions, clients.current, clients.config, ManifestBook(sessions), shared_broker.settings.admin_identity
    )

    clean = certifier.audit(stream, certified["manifest_id"], {}, content=True)
    assert clean.passed and clean.kind == "content-audit" and clean.id is not None
    assert {check.check: check for check in clean.checks}["content"].counts["as_published"] == 300

    with StreamProducer.open(stream, hub_of(shared_hub, owner), owner) as producer:
        producer.send({"account_id": 1}, _account(1) | {"holder": "renamed"})  # the owner's later update: fine
        tombstone_key = producer.schemas.key.encode({"account_id": 2})
    # Someone else's delete of a manifest key, partitioned as the Java client would.
    raw = Producer(shared_broker.admin_connection.client_config(partitioner="murmur2_random"))
    raw.produce(stream, None, tombstone_key)
    raw.flush(30)
    drifted = certifier.audit(stream, certified["manifest_id"], {}, content=True)
    checks = {check.check: check for check in drifted.checks}
    assert not drifted.passed and drifted.state == "DEGRADED"
    counts = checks["content"].counts
    assert checks["content"].passed and (counts["changed_since"], counts["deleted_since"]) == (1, 1)
    assert not checks["tombstones"].passed and checks["tombstones"].samples == ['{"account_id": 2}']
