"""Waivers excuse one rule for one stream or subject until they expire, and are checked when granted."""

from datetime import UTC, datetime, timedelta

import pytest

from headwater.policies import (
    DEFAULT_POLICY_FOLDER,
    PolicySet,
    Scope,
    Waiver,
    WaiverAlreadyExpiredError,
    WaiverForUnknownRuleError,
    WaiverWithoutTimezoneError,
    evaluate,
    load_policies,
    validate_waiver,
)
from tests.unit.policies.contexts import context, stream

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TOO_MANY_PARTITIONS = context(Scope.STREAM_REGISTRATION, stream=stream(partitions=100), registered_stream=None)


@pytest.fixture(scope="module")
def policy_set() -> PolicySet:
    return load_policies([DEFAULT_POLICY_FOLDER])


def waiver(rule_id: str = "partitions-within-bounds", target: str = "payments.order-value", **delta: int) -> Waiver:
    return Waiver(rule_id, target, NOW + timedelta(**delta or {"days": 1}), "platform-admin", "Migration from legacy.")


def test_active_waiver_excuses_the_violation(policy_set: PolicySet) -> None:
    granted = waiver()
    decision = evaluate(policy_set, TOO_MANY_PARTITIONS, [granted], NOW)
    assert decision.allowed is True
    assert [(waived.violation.rule_id, waived.waiver) for waived in decision.waived] == [
        ("partitions-within-bounds", granted)
    ]


def test_waiver_on_the_subject_excuses_schema_rules(policy_set: PolicySet) -> None:
    key_changed = context(Scope.SCHEMA_VERSION, key_schema_changed=True)
    decision = evaluate(policy_set, key_changed, [waiver("key-schema-immutable", "payments.order-value-key")], NOW)
    assert decision.allowed is True


def test_expired_waiver_stops_applying(policy_set: PolicySet) -> None:
    granted = waiver(days=1)
    decision = evaluate(policy_set, TOO_MANY_PARTITIONS, [granted], NOW + timedelta(days=1))
    assert [violation.rule_id for violation in decision.violations] == ["partitions-within-bounds"]
    assert decision.waived == ()


def test_waiver_for_another_stream_or_rule_does_not_apply(policy_set: PolicySet) -> None:
    others = [waiver(target="payments.refunds"), waiver(rule_id="fields-documented")]
    assert evaluate(policy_set, TOO_MANY_PARTITIONS, others, NOW).allowed is False


def test_waiver_for_an_unknown_rule_is_refused(policy_set: PolicySet) -> None:
    with pytest.raises(WaiverForUnknownRuleError) as raised:
        validate_waiver(waiver(rule_id="partition-bounds"), policy_set, NOW)
    assert str(raised.value) == (
        "Waiver for 'payments.order-value' names unknown rule 'partition-bounds'. "
        "List rules with `headwater policy list`."
    )


def test_waiver_already_expired_when_granted_is_refused(policy_set: PolicySet) -> None:
    with pytest.raises(WaiverAlreadyExpiredError) as raised:
        validate_waiver(waiver(hours=-1), policy_set, NOW)
    assert str(raised.value) == (
        "Waiver of rule 'partitions-within-bounds' for 'payments.order-value' expired at "
        "2026-11-25T11:00:00+00:00, before 2026-11-25T12:00:00+00:00. Choose an expiry in the future."
    )


def test_valid_waiver_is_accepted(policy_set: PolicySet) -> None:
    validate_waiver(waiver(), policy_set, NOW)


def test_waiver_without_timezone_is_refused() -> None:
    with pytest.raises(WaiverWithoutTimezoneError) as raised:
        Waiver("fields-documented", "payments.order-value", datetime(2027, 1, 1), "admin", "Because.")
    assert str(raised.value) == (
        "Waiver of rule 'fields-documented' for 'payments.order-value' has an expiry without a timezone. "
        "Give it one, e.g. UTC."
    )
