"""Policies on registry writes, waivers and the audit log, on a real database (SQLite and PostgreSQL)."""

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from headwater.policies import DEFAULT_POLICY_FOLDER, Requester, load_policies
from headwater.registry.database import session_factory
from headwater.registry.governance.dry_run import PolicyDryRun
from headwater.registry.governance.errors import PolicyViolationError, WaiverNotFoundError, WaiverRefusedError
from headwater.registry.governance.gate import PolicyGate
from headwater.registry.governance.waivers import WaiverBook
from headwater.registry.schema_registry_errors import IncompatibleSchemaVersionError, SubjectNotFoundError
from headwater.registry.services.audit import AuditLog
from headwater.registry.services.schema_registry import SchemaRegistry, SchemaSubmission
from headwater.registry.streams.definition import StreamDefinition
from tests.policy_helpers import ORGANISATION_RULES

ALICE = Requester("alice-svc", "payments")
GOOD = {"type": "record", "name": "Payment", "fields": [{"name": "payment_id", "type": "string"}]}
BAD = {
    "type": "record",
    "name": "Payment",
    "fields": [{"name": "paymentId", "type": "string"}, {"name": "amount", "type": "double"}],
}


def submission(schema: object) -> SchemaSubmission:
    return SchemaSubmission(json.dumps(schema))


@pytest.fixture
def gate(tmp_path: Path) -> PolicyGate:
    folder = tmp_path / "org-policies"
    folder.mkdir()
    (folder / "org.yaml").write_text(ORGANISATION_RULES)
    return PolicyGate(load_policies([DEFAULT_POLICY_FOLDER, folder]))


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    return migrated_engine


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def registry(sessions: sessionmaker[Session], gate: PolicyGate) -> SchemaRegistry:
    return SchemaRegistry(sessions, gate)


@pytest.fixture
def waivers(sessions: sessionmaker[Session], gate: PolicyGate) -> WaiverBook:
    return WaiverBook(sessions, gate.policy_set)


def test_a_version_breaking_error_rules_is_refused_with_every_violation_and_nothing_stored(
    registry: SchemaRegistry, sessions: sessionmaker[Session]
) -> None:
    with pytest.raises(PolicyViolationError) as refused:
        registry.register("payments-value", submission(BAD), requester=ALICE)

    assert [violation.rule_id for violation in refused.value.violations] == [
        "snake-case-field-names",
        "no-float-amounts",
    ]
    message = str(refused.value)
    assert "breaks 2 rules, nothing was stored" in message
    assert "[snake-case-field-names] schema.fields: A field name is not snake_case." in message
    assert "Fix: Use long minor units or the decimal logical type." in message
    with pytest.raises(SubjectNotFoundError):
        registry.versions("payments-value", include_deleted=True, deleted_only=False)
    with sessions() as session:
        assert session.scalar(text("SELECT count(*) FROM schemas")) == 0
    [entry] = AuditLog(sessions).entries(target="payments-value")
    assert (entry.actor, entry.action, entry.outcome) == ("alice-svc", "schema.register", "refused")
    policy = entry.details["policy"]
    assert [violation["rule_id"] for violation in policy["violations"]] == [
        "snake-case-field-names",
        "no-float-amounts",
    ]
    assert "fields-documented" in policy["rules"] and "snake-case-field-names" in policy["rules"]


def test_an_allowed_version_is_stored_with_its_decision_and_warnings(
    registry: SchemaRegistry, sessions: sessionmaker[Session]
) -> None:
    registered = registry.register("payments-value", submission(GOOD), requester=ALICE)

    [entry] = AuditLog(sessions).entries(target="payments-value")
    assert (entry.actor, entry.outcome, entry.after) == (
        "alice-svc",
        "done",
        {"version": 1, "schema_id": registered.schema_id},
    )
    assert entry.details["policy"]["allowed"] is True
    assert [warning["rule_id"] for warning in entry.details["policy"]["warnings"]] == ["updated-at-present"]


def test_the_next_version_is_judged_too_and_an_incompatible_one_is_audited_as_refused(
    registry: SchemaRegistry, sessions: sessionmaker[Session]
) -> None:
    registry.register("payments-value", submission(GOOD), requester=ALICE)
    renamed = {**GOOD, "fields": [{"name": "paymentId", "type": "string", "default": ""}]}
    with pytest.raises(PolicyViolationError):
        registry.register("payments-value", submission(renamed), requester=ALICE)
    required = {**GOOD, "fields": [*GOOD["fields"], {"name": "country", "type": "string"}]}
    with pytest.raises(IncompatibleSchemaVersionError):
        registry.register("payments-value", submission(required), requester=ALICE)

    assert registry.versions("payments-value", include_deleted=True, deleted_only=False) == [1]
    entries = AuditLog(sessions).entries(target="payments-value")
    assert [(entry.outcome, next(iter(entry.details))) for entry in entries] == [
        ("refused", "compatibility"),
        ("refused", "policy"),
        ("done", "policy"),
    ]


def test_a_waiver_excuses_one_rule_for_one_subject_until_it_expires(
    registry: SchemaRegistry, waivers: WaiverBook, sessions: sessionmaker[Session]
) -> None:
    expires = datetime.now(UTC) + timedelta(seconds=3)
    waivers.grant("no-float-amounts", "payments-value", expires, "Legacy amounts until Q3.", "headwater-admin")
    waivers.grant("snake-case-field-names", "payments-value", expires, "Legacy names until Q3.", "headwater-admin")
    waivers.grant("no-float-amounts", "other-value", expires + timedelta(days=1), "Other subject.", "headwater-admin")

    registry.register("payments-value", submission(BAD), requester=ALICE)
    entry = AuditLog(sessions).entries(target="payments-value", action="schema.register")[0]
    assert entry.outcome == "done"
    waived = entry.details["policy"]["waived"]
    assert sorted(item["rule_id"] for item in waived) == ["no-float-amounts", "snake-case-field-names"]
    assert waived[0]["waiver"]["granted_by"] == "headwater-admin"

    # The same subject's next breaking version, after the waivers expired, is refused again.
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.2)
    next_version = {**BAD, "fields": [*BAD["fields"], {"name": "feeAmount", "type": "float", "default": 0.0}]}
    with pytest.raises(PolicyViolationError) as refused:
        registry.register("payments-value", submission(next_version), requester=ALICE)
    assert {violation.rule_id for violation in refused.value.violations} == {
        "snake-case-field-names",
        "no-float-amounts",
    }


def test_a_revoked_waiver_stops_applying_and_both_changes_are_audited(
    registry: SchemaRegistry, waivers: WaiverBook, sessions: sessionmaker[Session]
) -> None:
    granted = waivers.grant(
        "snake-case-field-names", "camel-value", datetime.now(UTC) + timedelta(days=7), "Migration.", "headwater-admin"
    )
    revoked = waivers.revoke(granted.id, "headwater-admin")
    assert revoked.revoked_by == "headwater-admin" and not revoked.is_active(datetime.now(UTC))
    assert waivers.list(include_inactive=False) == []
    assert [waiver.id for waiver in waivers.list(include_inactive=True)] == [granted.id]

    camel = {"type": "record", "name": "Camel", "fields": [{"name": "camelCase", "type": "string"}]}
    with pytest.raises(PolicyViolationError):
        registry.register("camel-value", submission(camel), requester=ALICE)
    actions = [(entry.action, entry.outcome) for entry in AuditLog(sessions).entries(target="camel-value")]
    assert actions == [
        ("schema.register", "refused"),
        ("policy.waiver.revoke", "done"),
        ("policy.waiver.grant", "done"),
    ]
    revoke_entry = AuditLog(sessions).entries(action="policy.waiver.revoke")[0]
    assert revoke_entry.before is not None and revoke_entry.before["revoked_at"] is None
    assert revoke_entry.after is not None and revoke_entry.after["revoked_by"] == "headwater-admin"


@pytest.mark.parametrize(
    ("rule_id", "expires_in", "reason", "expected"),
    [
        ("no-such-rule", timedelta(days=1), "Because.", "names unknown rule 'no-such-rule'"),
        ("no-float-amounts", timedelta(seconds=-1), "Because.", "Choose an expiry in the future"),
        ("no-float-amounts", timedelta(days=1), "  ", "needs a reason"),
    ],
)
def test_bad_waivers_are_refused_and_nothing_is_stored(
    waivers: WaiverBook,
    sessions: sessionmaker[Session],
    rule_id: str,
    expires_in: timedelta,
    reason: str,
    expected: str,
) -> None:
    with pytest.raises(WaiverRefusedError, match=expected):
        waivers.grant(rule_id, "payments-value", datetime.now(UTC) + expires_in, reason, "headwater-admin")
    assert waivers.list(include_inactive=True) == []
    assert AuditLog(sessions).entries() == []


def test_a_waiver_without_timezone_is_refused(waivers: WaiverBook) -> None:
    with pytest.raises(WaiverRefusedError, match="without a timezone"):
        waivers.grant("no-float-amounts", "payments-value", datetime(2099, 1, 1), "Because.", "headwater-admin")


def test_revoking_an_unknown_waiver_is_404(waivers: WaiverBook) -> None:
    with pytest.raises(WaiverNotFoundError, match="No waiver with id 42"):
        waivers.revoke(42, "headwater-admin")


def test_the_audit_log_refuses_updates_and_deletes(registry: SchemaRegistry, engine: Engine) -> None:
    registry.register("payments-value", submission(GOOD), requester=ALICE)
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT actor FROM audit_log")) == "alice-svc"


def test_setting_changes_and_deletes_are_audited_with_before_and_after(
    registry: SchemaRegistry, sessions: sessionmaker[Session]
) -> None:
    registry.register("payments-value", submission(GOOD), requester=ALICE)
    registry.set_compatibility("payments-value", "FULL", actor="alice-svc")
    registry.set_compatibility(None, "NONE", actor="headwater-admin")
    registry.delete_version("payments-value", "1", permanent=False, actor="alice-svc")

    entries = AuditLog(sessions).entries()
    assert [(entry.actor, entry.action, entry.target, entry.before, entry.after) for entry in entries[:3]] == [
        ("alice-svc", "schema.version.delete", "payments-value", None, None),
        ("headwater-admin", "schema.compatibility.set", "(global)", {"compatibility": None}, {"compatibility": "NONE"}),
        ("alice-svc", "schema.compatibility.set", "payments-value", {"compatibility": None}, {"compatibility": "FULL"}),
    ]
    assert entries[0].details == {"version": 1, "schema_id": 1}


def test_the_dry_run_reports_every_violation_of_a_stream_definition_and_stores_nothing(
    registry: SchemaRegistry, gate: PolicyGate, sessions: sessionmaker[Session]
) -> None:
    definition = StreamDefinition(
        name="Payments",
        partitions=128,
        topic_config={"cleanup.policy": "delete"},
        compatibility="BACKWARD",
        key_schema='"null"',
        value_schema=json.dumps(BAD),
    )
    changes = PolicyDryRun(sessions, gate, registry).check_stream(ALICE, definition)

    assert [(change.scope, change.target) for change in changes] == [
        ("stream_registration", "Payments"),
        ("schema_version", "Payments-key"),
        ("schema_version", "Payments-value"),
    ]
    registration, _, value = changes
    assert {violation.rule_id for violation in registration.decision.violations} == {
        "stream-name-format",
        "stream-domain-owned-by-caller",
        "source-stream-compacted-forever",
        "key-schema-required",
        "source-stream-full-transitive",
        "partitions-within-bounds",
        "owner-team-and-contact-present",
    }
    assert {violation.rule_id for violation in value.decision.violations} == {
        "stream-domain-owned-by-caller",
        "fields-documented",
        "snake-case-field-names",
        "no-float-amounts",
    }
    assert all(violation.fix_hint for change in changes for violation in change.decision.violations)
    assert AuditLog(sessions).entries() == []
    assert registry.subjects(include_deleted=True, deleted_only=False, prefix=None) == []
