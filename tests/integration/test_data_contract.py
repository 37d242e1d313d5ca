"""Data-contract rules end to end: stored with the stream by the hub (checked against the value schema),
enforced by the producer SDK before anything is sent, or records set aside on a dead-letter stream."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Consumer, TopicPartition

from headwater.producers.backfill import CHECKPOINT_FILE, Backfill
from headwater.producers.backfill_sources import IterableSource
from headwater.producers.connection import HubConnection, MtlsConnection
from headwater.producers.errors import DataRuleViolationError
from headwater.producers.stream_producer import DEAD_LETTER_RULE_HEADER, DEAD_LETTER_SOURCE_HEADER, StreamProducer
from tests.conftest import IdentityFactory, RunningBroker, RunningHub
from tests.hub_helpers import fresh_domain, hub_http_client
from tests.integration.test_stream_registration import spec

RULES = [
    {"name": "amount-not-negative", "expression": "record.amount_minor >= 0", "message": "Refunds are events."},
    {"name": "email-has-at", "expression": "record.buyer.email.contains('@')"},
]


@pytest.fixture
def owner(shared_hub: RunningHub, shared_broker: RunningBroker, issue_identity: IdentityFactory) -> MtlsConnection:
    return issue_identity(domain=fresh_domain(shared_hub, shared_broker))


@pytest.fixture
def client(shared_hub: RunningHub, owner: MtlsConnection) -> Iterator[httpx.Client]:
    with hub_http_client(shared_hub, owner) as http:
        yield http


def _register(client: httpx.Client, entity: str, rules: list[dict[str, str]]) -> str:
    name = f"{client.get('/api/v1/identity').json()['domain']}.{entity}"
    registered = client.post("/api/v1/streams", json=spec(name, data_rules=rules, partitions=1))
    assert registered.status_code == 201, registered.text
    return name


def _hub(hub: RunningHub, identity: MtlsConnection) -> HubConnection:
    return HubConnection(hub.base_url, identity.ca_file, identity.certificate_file, identity.key_file)


def _order(number: int, amount: int, email: str = "a@b.io") -> tuple[dict[str, str], dict[str, object]]:
    order_id = f"order-{number}"
    return {"order_id": order_id}, {"order_id": order_id, "buyer": {"email": email}, "amount_minor": amount}


def _records(connection: MtlsConnection, topic: str) -> list[tuple[bytes, bytes, dict[str, list[bytes]]]]:
    consumer = Consumer(connection.client_config(**{"group.id": f"g-{uuid.uuid4().hex}", "enable.auto.commit": False}))
    try:
        end = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
        consumer.assign([TopicPartition(topic, 0, 0)])
        found: list[tuple[bytes, bytes, dict[str, list[bytes]]]] = []
        while len(found) < end:
            for message in consumer.consume(100, timeout=5):
                headers: dict[str, list[bytes]] = {}
                for name, value in message.headers() or []:
                    headers.setdefault(name, []).append(value)
                found.append((message.key(), message.value(), headers))
        return found
    finally:
        consumer.close()


def test_a_record_breaking_a_rule_is_refused_naming_rule_and_values(
    shared_hub: RunningHub, shared_broker: RunningBroker, owner: MtlsConnection, client: httpx.Client
) -> None:
    stream = _register(client, "orders", RULES)
    assert client.get(f"/api/v1/streams/{stream}").json()["data_rules"][0]["name"] == "amount-not-negative"
    with StreamProducer.open(stream, _hub(shared_hub, owner), owner) as producer:
        with pytest.raises(DataRuleViolationError) as refused:
            producer.send(*_order(1, -5, email="nobody"))
        producer.send(*_order(2, 10))
    message = str(refused.value)
    assert "rule amount-not-negative (record.amount_minor >= 0) is false for amount_minor = -5" in message
    assert "rule email-has-at" in message and "nothing was sent" in message
    records = _records(shared_broker.admin_connection, stream)
    assert [producer.schemas.key.decode(key)["order_id"] for key, _, _ in records] == ["order-2"]


def test_a_dead_letter_stream_takes_the_records_that_break_rules(
    shared_hub: RunningHub, shared_broker: RunningBroker, owner: MtlsConnection, client: httpx.Client
) -> None:
    stream = _register(client, "payments", RULES)
    rejected = _register(client, "payments-rejected", [])
    with StreamProducer.open(stream, _hub(shared_hub, owner), owner, dead_letter_stream=rejected) as producer:
        producer.send(*_order(1, -5))
        producer.send(*_order(2, 7))
    assert producer.dead_lettered == 1
    ((key, value, headers),) = _records(shared_broker.admin_connection, rejected)
    assert producer.schemas.value.decode(value)["amount_minor"] == -5
    assert headers[DEAD_LETTER_SOURCE_HEADER] == [stream.encode()]
    assert [rule.decode() for rule in headers[DEAD_LETTER_RULE_HEADER]] == [
        "rule amount-not-negative (record.amount_minor >= 0) is false for amount_minor = -5"
    ]
    assert len(_records(shared_broker.admin_connection, stream)) == 1


def test_unusable_rules_are_refused_and_rules_can_be_replaced_by_the_owner(
    shared_hub: RunningHub, owner: MtlsConnection, client: httpx.Client, issue_identity: IdentityFactory
) -> None:
    domain = client.get("/api/v1/identity").json()["domain"]
    typo = [{"name": "typo", "expression": "record.amount_mnor >= 0"}]
    refused = client.post("/api/v1/streams", json=spec(f"{domain}.typos", data_rules=typo))
    assert refused.status_code == 422 and refused.json()["error_code"] == 42236, refused.text
    assert refused.json()["problems"] == ["rule typo reads record.amount_mnor, which the value schema does not have"]
    assert client.get(f"/api/v1/streams/{domain}.typos").status_code == 404  # nothing registered

    stream = _register(client, "loose", [])
    with StreamProducer.open(stream, _hub(shared_hub, owner), owner) as producer:
        producer.send(*_order(1, -1))  # no rules yet
    stranger = issue_identity(domain=domain)
    with hub_http_client(shared_hub, stranger) as other:
        assert other.put(f"/api/v1/streams/{stream}/data-rules", json=RULES[:1]).status_code == 403
    not_bool = client.put(f"/api/v1/streams/{stream}/data-rules", json=[{"name": "n", "expression": "1"}])
    assert not_bool.status_code == 422 and "returns int" in not_bool.text
    mistyped = client.put(
        f"/api/v1/streams/{stream}/data-rules", json=[{"name": "t", "expression": "record.buyer > 1"}]
    )
    assert mistyped.status_code == 422 and "does not type-check against the value schema" in mistyped.text
    replaced = client.put(f"/api/v1/streams/{stream}/data-rules", json=RULES[:1])
    assert replaced.status_code == 200, replaced.text
    with StreamProducer.open(stream, _hub(shared_hub, owner), owner) as producer:
        with pytest.raises(DataRuleViolationError, match="amount-not-negative"):
            producer.send(*_order(2, -1))


def test_a_value_schema_that_breaks_the_rules_is_refused_until_the_rules_change(
    client: httpx.Client, shared_hub: RunningHub, owner: MtlsConnection
) -> None:
    """Producers check records with the latest value schema: a compatible version that drops a field a
    rule reads would stop them all, so the hub refuses it (nothing stored) and says what to do."""
    value = json.loads(spec("x.y")["value_schema"])
    value["fields"].append({"name": "note", "type": ["null", "string"], "default": None, "doc": "A note."})
    rules = [*RULES, {"name": "short-note", "expression": "record.note == null || record.note.size() < 100"}]
    domain = client.get("/api/v1/identity").json()["domain"]
    registered = client.post(
        "/api/v1/streams", json=spec(f"{domain}.noted", data_rules=rules, value_schema=json.dumps(value))
    )
    assert registered.status_code == 201, registered.text
    stream = f"{domain}.noted"
    without_note = {**value, "fields": value["fields"][:-1]}  # compatible: readers have the default

    refused = client.post(f"/subjects/{stream}-value/versions", json={"schema": json.dumps(without_note)})
    assert refused.status_code == 422 and refused.json()["error_code"] == 42242, refused.text
    assert refused.json()["problems"] == ["rule short-note reads record.note, which the value schema does not have"]
    assert "change the rules first" in refused.json()["message"]
    assert client.get(f"/subjects/{stream}-value/versions").json() == [1]  # nothing stored

    assert client.put(f"/api/v1/streams/{stream}/data-rules", json=RULES).status_code == 200
    accepted = client.post(f"/subjects/{stream}-value/versions", json={"schema": json.dumps(without_note)})
    assert accepted.status_code == 200, accepted.text
    with StreamProducer.open(stream, _hub(shared_hub, owner), owner) as producer:
        with pytest.raises(DataRuleViolationError, match="amount-not-negative"):
            producer.send(*_order(1, -1))


def test_a_backfill_keeps_the_rules_too(
    shared_hub: RunningHub, shared_broker: RunningBroker, owner: MtlsConnection, client: httpx.Client, tmp_path: Path
) -> None:
    stream = _register(client, "backfilled", RULES)
    source = IterableSource([_order(1, 5), _order(2, -3), _order(3, 7)])
    backfill = Backfill(stream, _hub(shared_hub, owner), owner, source, tmp_path / "w", checkpoint_every_s=0)
    with pytest.raises(DataRuleViolationError, match="amount-not-negative .* amount_minor = -3"):
        backfill.run()
    saved = json.loads((tmp_path / "w" / CHECKPOINT_FILE).read_text())
    assert saved["sent"] == 1  # order-1 went out and is checkpointed; nothing of order-2
    assert len(_records(shared_broker.admin_connection, stream)) == 1
