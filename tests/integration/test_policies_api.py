"""Policies through the running hub over mTLS: an organisation's CEL rules block registrations made with
the stock Confluent client, the dry-run check, waivers, the audit log, and the `headwater policy` CLI."""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from confluent_kafka.schema_registry import Schema
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from headwater.local import hub as hub_server
from headwater.local import processes
from headwater.policies import DEFAULT_POLICY_FOLDER
from tests.conftest import IdentityFactory, RunningBroker, RunningHub
from tests.hub_helpers import hub_http_client, run_cli
from tests.integration.test_confluent_clients import registry_client
from tests.policy_helpers import ORGANISATION_RULES

CAMEL_AND_FLOAT = {
    "type": "record",
    "name": "Payment",
    "fields": [{"name": "paymentId", "type": "string"}, {"name": "amount", "type": "double"}],
}
FLOAT_ONLY = {"type": "record", "name": "Payment", "fields": [{"name": "amount", "type": "double"}]}
COMPLIANT = {
    "type": "record",
    "name": "Payment",
    "fields": [{"name": "payment_id", "type": "string"}, {"name": "updated_at", "type": "long"}],
}


@pytest.fixture(scope="module")
def policy_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("org-policies")
    (folder / "org.yaml").write_text(ORGANISATION_RULES)
    return folder


@pytest.fixture(scope="module")
def org_hub(shared_broker: RunningBroker, policy_folder: Path) -> Iterator[RunningHub]:
    """A hub on the shared broker's state folder that loads the organisation's policy folder."""
    settings = shared_broker.settings.model_copy(update={"policy_dir": policy_folder})
    port = processes.free_port()
    base_url = f"https://127.0.0.1:{port}"
    pid = hub_server.start_background(settings, port)
    try:
        hub_server.wait_until_healthy(settings, pid, base_url, timeout_s=60)
        yield RunningHub(base_url, settings.ca_file)
    finally:
        processes.stop_process(pid)


@pytest.fixture
def admin(org_hub: RunningHub, shared_broker: RunningBroker) -> Iterator[httpx.Client]:
    with hub_http_client(org_hub, shared_broker.admin_connection) as client:
        yield client


def _subject() -> str:
    return f"policy-{uuid.uuid4().hex[:10]}-value"


def test_an_organisation_cel_rule_blocks_a_registration_through_the_confluent_client(
    org_hub: RunningHub, shared_broker: RunningBroker, admin: httpx.Client
) -> None:
    client = registry_client(org_hub, shared_broker.admin_connection)
    subject = _subject()

    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema(subject, Schema(json.dumps(CAMEL_AND_FLOAT), "AVRO"))

    assert (refused.value.http_status_code, refused.value.error_code) == (422, 42290)
    assert "breaks 2 rules, nothing was stored" in refused.value.error_message
    assert "[snake-case-field-names]" in refused.value.error_message
    assert "[no-float-amounts]" in refused.value.error_message
    with pytest.raises(SchemaRegistryError) as missing:
        client.get_versions(subject)
    assert missing.value.error_code == 40401

    # The raw answer carries the violations as data too, each with its fix.
    response = admin.post(f"/subjects/{subject}/versions", json={"schema": json.dumps(CAMEL_AND_FLOAT)})
    assert response.status_code == 422
    assert [violation["rule_id"] for violation in response.json()["violations"]] == [
        "snake-case-field-names",
        "no-float-amounts",
    ]
    assert all(violation["fix_hint"] for violation in response.json()["violations"])

    audit = admin.get("/api/v1/audit", params={"target": subject}).json()
    assert [(entry["actor"], entry["action"], entry["outcome"]) for entry in audit] == [
        ("headwater-admin", "schema.register", "refused")
    ] * 2


def test_the_stock_serializer_is_blocked_before_any_record_is_written_and_a_compliant_schema_passes(
    org_hub: RunningHub, shared_broker: RunningBroker, admin: httpx.Client
) -> None:
    client = registry_client(org_hub, shared_broker.admin_connection)
    topic = f"policy-{uuid.uuid4().hex[:10]}"
    context = SerializationContext(topic, MessageField.VALUE)

    with pytest.raises(SchemaRegistryError, match="no-float-amounts"):
        AvroSerializer(client, json.dumps(CAMEL_AND_FLOAT))({"paymentId": "p-1", "amount": 1.5}, context)
    encoded = AvroSerializer(client, json.dumps(COMPLIANT))({"payment_id": "p-1", "updated_at": 1}, context)

    assert encoded[0] == 0
    [entry] = admin.get("/api/v1/audit", params={"target": f"{topic}-value", "action": "schema.register"}).json()[:1]
    assert entry["outcome"] == "done" and entry["details"]["policy"]["warnings"] == []


def test_the_rules_in_force_name_their_file_and_line(admin: httpx.Client, policy_folder: Path) -> None:
    rules = {rule["id"]: rule for rule in admin.get("/api/v1/policies").json()}

    assert rules["snake-case-field-names"]["source"] == f"{policy_folder / 'org.yaml'}:2"
    assert rules["no-float-amounts"]["source"] == f"{policy_folder / 'org.yaml'}:10"
    assert rules["snake-case-field-names"]["kind"] == "cel"
    assert rules["fields-documented"]["kind"] == "builtin:fields-documented"
    defaults = DEFAULT_POLICY_FOLDER / "headwater.yaml"
    line = defaults.read_text().splitlines().index("  - id: fields-documented") + 1
    assert rules["fields-documented"]["source"] == f"{defaults}:{line}"


def test_the_dry_run_lists_every_violation_of_a_stream_and_stores_nothing(admin: httpx.Client) -> None:
    name = f"payments.refund{uuid.uuid4().hex[:6]}"
    stream = {
        "name": name,
        "partitions": 100,
        "topic_config": {"cleanup.policy": "delete"},
        "key_schema": '"string"',
        "value_schema": json.dumps(CAMEL_AND_FLOAT),
    }
    result = admin.post("/api/v1/policies/check", json={"stream": stream}).json()

    assert result["allowed"] is False
    registration, key, value = result["checks"]
    assert {violation["rule_id"] for violation in registration["violations"]} == {
        "source-stream-compacted-forever",
        "partitions-within-bounds",
        "owner-team-and-contact-present",
    }
    assert [warning["rule_id"] for warning in registration["warnings"]] == ["stream-description-present"]
    assert key == {**key, "target": f"{name}-key", "allowed": True}
    assert {violation["rule_id"] for violation in value["violations"]} == {
        "fields-documented",
        "snake-case-field-names",
        "no-float-amounts",
    }
    first = value["violations"][0]
    assert set(first) == {"rule_id", "severity", "path", "message", "fix_hint"}
    assert admin.get("/subjects", params={"subjectPrefix": name}).json() == []


def test_the_dry_run_of_a_schema_version_judges_it_against_the_latest_version(admin: httpx.Client) -> None:
    subject = _subject()
    assert admin.post(f"/subjects/{subject}/versions", json={"schema": json.dumps(COMPLIANT)}).status_code == 200

    check = {"schema_version": {"subject": subject, "schema": json.dumps(FLOAT_ONLY)}}
    [change] = admin.post("/api/v1/policies/check", json=check).json()["checks"]

    assert (change["scope"], change["target"], change["allowed"]) == ("schema_version", subject, False)
    assert [violation["rule_id"] for violation in change["violations"]] == ["no-float-amounts"]
    assert admin.get(f"/subjects/{subject}/versions").json() == [1]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, "give exactly one of 'stream' or 'schema_version'"),
        ({"schema_version": {"subject": "x-value", "schema": '"string"'}, "stream": None, "extra": 1}, "extra"),
        ({"schema_version": {"subject": "x-value"}}, "schema_version.schema: Field required"),
    ],
)
def test_a_malformed_check_request_is_a_422_json_error(admin: httpx.Client, body: object, expected: str) -> None:
    response = admin.post("/api/v1/policies/check", json=body)
    assert response.status_code == 422 and response.json()["error_code"] == 42200
    assert expected in response.json()["message"]


def test_an_invalid_schema_in_a_check_is_42201_with_the_parser_message(admin: httpx.Client) -> None:
    check = {"schema_version": {"subject": "x-value", "schema": '{"type": "record", "name": "R"}'}}
    response = admin.post("/api/v1/policies/check", json=check)
    assert (response.status_code, response.json()["error_code"]) == (422, 42201)
    assert "fields" in response.json()["message"]


def test_only_the_admin_grants_waivers_and_a_waiver_lets_one_subject_through_until_revoked(
    org_hub: RunningHub, admin: httpx.Client, issue_identity: IdentityFactory
) -> None:
    subject = _subject()
    expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    waiver = {"rule_id": "no-float-amounts", "target": subject, "expires_at": expiry, "reason": "Legacy feed."}
    with hub_http_client(org_hub, issue_identity(domain="payments")) as stranger:
        refused = stranger.post("/api/v1/policies/waivers", json=waiver)
    assert (refused.status_code, refused.json()["error_code"]) == (403, 40390)

    granted = admin.post("/api/v1/policies/waivers", json=waiver)
    assert granted.status_code == 201
    waiver_id = granted.json()["id"]
    assert admin.post(f"/subjects/{subject}/versions", json={"schema": json.dumps(FLOAT_ONLY)}).status_code == 200
    assert waiver_id in [row["id"] for row in admin.get("/api/v1/policies/waivers").json()]

    revoked = admin.delete(f"/api/v1/policies/waivers/{waiver_id}")
    assert revoked.status_code == 200 and revoked.json()["revoked_by"] == "headwater-admin"
    second = {**FLOAT_ONLY, "fields": [*FLOAT_ONLY["fields"], {"name": "fee_amount", "type": "float", "default": 0}]}
    response = admin.post(f"/subjects/{subject}/versions", json={"schema": json.dumps(second)})
    assert (response.status_code, response.json()["error_code"]) == (422, 42290)
    actions = [entry["action"] for entry in admin.get("/api/v1/audit", params={"target": subject}).json()]
    assert actions == ["schema.register", "policy.waiver.revoke", "schema.register", "policy.waiver.grant"]


@pytest.mark.parametrize(
    ("change", "status", "error_code", "expected"),
    [
        ({"rule_id": "no-such-rule"}, 422, 42291, "names unknown rule 'no-such-rule'"),
        ({"expires_at": "2020-01-01T00:00:00+00:00"}, 422, 42291, "Choose an expiry in the future"),
        ({"expires_at": "2099-01-01T00:00:00"}, 422, 42291, "without a timezone"),
        ({"reason": ""}, 422, 42291, "needs a reason"),
        ({"expires_at": "next week"}, 422, 42200, "expires_at"),
    ],
)
def test_bad_waivers_are_refused_with_a_clear_error(
    admin: httpx.Client, change: dict[str, str], status: int, error_code: int, expected: str
) -> None:
    expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    waiver = {"rule_id": "no-float-amounts", "target": _subject(), "expires_at": expiry, "reason": "Why.", **change}
    response = admin.post("/api/v1/policies/waivers", json=waiver)
    assert (response.status_code, response.json()["error_code"]) == (status, error_code)
    assert expected in response.json()["message"]


def test_revoking_an_unknown_waiver_is_404(admin: httpx.Client) -> None:
    response = admin.delete("/api/v1/policies/waivers/987654321")
    assert (response.status_code, response.json()["error_code"]) == (404, 40490)


# -- the CLI, against the same hub ---------------------------------------------------------------


def test_policy_list_shows_each_rule_with_its_file_and_line(
    org_hub: RunningHub, shared_broker: RunningBroker, policy_folder: Path
) -> None:
    result = run_cli(org_hub, shared_broker, "policy", "list")
    assert result.returncode == 0, result.stderr
    assert f"{policy_folder / 'org.yaml'}:2" in result.stdout
    assert "no-float-amounts" in result.stdout and "fields-documented" in result.stdout


def test_policy_check_of_a_spec_file_lists_violations_and_exits_1(
    org_hub: RunningHub, shared_broker: RunningBroker, tmp_path: Path
) -> None:
    (tmp_path / "value.avsc").write_text(json.dumps(CAMEL_AND_FLOAT))
    (tmp_path / "spec.yaml").write_text(
        "name: payments.order\npartitions: 3\nowner_team: payments-core\ncontact: pay@example.com\n"
        "key_schema: {type: string}\nvalue_schema_file: value.avsc\n"
    )
    refused = run_cli(org_hub, shared_broker, "policy", "check", str(tmp_path / "spec.yaml"))
    assert refused.returncode == 1, refused.stderr
    for rule in ("fields-documented", "snake-case-field-names", "no-float-amounts"):
        assert rule in refused.stdout
    assert "Refused" in refused.stdout and "Use long minor units" in refused.stdout

    (tmp_path / "ok.avsc").write_text(json.dumps(COMPLIANT))
    allowed = run_cli(
        org_hub, shared_broker, "policy", "check", "--subject", _subject(), "--schema", str(tmp_path / "ok.avsc")
    )
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "Allowed" in allowed.stdout


def test_policy_check_of_a_broken_spec_file_is_one_clear_line(
    org_hub: RunningHub, shared_broker: RunningBroker, tmp_path: Path
) -> None:
    (tmp_path / "spec.yaml").write_text("name: payments.order\npartitions: many\nkey_schema: '\"string\"'\n")
    result = run_cli(org_hub, shared_broker, "policy", "check", str(tmp_path / "spec.yaml"))
    assert result.returncode == 1
    assert "partitions: Input should be a valid integer" in result.stderr
    assert "value_schema: Field required" in result.stderr and "Traceback" not in result.stderr


def test_policy_waive_waivers_and_audit_from_the_cli(org_hub: RunningHub, shared_broker: RunningBroker) -> None:
    subject = _subject()
    waived = run_cli(
        org_hub, shared_broker, "policy", "waive", "no-float-amounts", subject, "--hours", "2", "--reason", "Q3"
    )
    assert waived.returncode == 0, waived.stderr
    assert f"rule no-float-amounts is waived for {subject}" in waived.stdout
    listing = run_cli(org_hub, shared_broker, "policy", "waivers")
    assert subject in listing.stdout
    audit = run_cli(org_hub, shared_broker, "audit", "--target", subject)
    assert "policy.waiver.grant" in audit.stdout and "headwater-admin" in audit.stdout

    unknown = run_cli(
        org_hub, shared_broker, "policy", "waive", "no-such-rule", subject, "--hours", "1", "--reason", "x"
    )
    assert unknown.returncode == 1 and "names unknown rule 'no-such-rule'" in unknown.stderr
