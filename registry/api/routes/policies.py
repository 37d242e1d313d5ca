"""Policies in force, dry-run checks and waivers (`/api/v1/policies/...`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from headwater.policies import Decision, Violation
from headwater.registry.api.deps import Caller, CurrentIdentity, HubDep
from headwater.registry.api.identifiers import Instant, RowId
from headwater.registry.governance.dry_run import CheckedChange, PolicyDryRun
from headwater.registry.governance.errors import PolicyAdminRequiredError
from headwater.registry.governance.waivers import StoredWaiver
from headwater.registry.services.schema_registry import SchemaSubmission
from headwater.registry.streams.definition import StreamDefinition

router = APIRouter(prefix="/policies", tags=["policies"])


class RulePayload(BaseModel):
    id: str
    kind: str = Field(description="`builtin:<name>` or `cel`.")
    severity: str
    applies_to: list[str]
    description: str
    source: str = Field(description="`file:line` where the rule is defined.")


class ViolationPayload(BaseModel):
    rule_id: str
    severity: str
    path: str = Field(description='Where in the checked change, e.g. `schema.fields["amount"].doc`.')
    message: str
    fix_hint: str


class WaivedViolationPayload(ViolationPayload):
    waiver_target: str
    waiver_expires_at: datetime
    waiver_granted_by: str
    waiver_reason: str


class CheckedChangePayload(BaseModel):
    scope: str
    target: str = Field(description="The stream or subject this part of the change is about.")
    allowed: bool
    violations: list[ViolationPayload]
    warnings: list[ViolationPayload]
    waived: list[WaivedViolationPayload]


class PolicyCheckResponse(BaseModel):
    allowed: bool = Field(description="Whether every part of the change passes (waived violations pass).")
    checks: list[CheckedChangePayload]


class SchemaVersionCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str
    schema_text: str = Field(alias="schema", description="Avro schema as JSON text.")


class PolicyCheckRequest(BaseModel):
    """Exactly one of `stream` (a whole stream definition) or `schema_version` (one subject's next version)."""

    model_config = ConfigDict(extra="forbid")

    stream: StreamDefinition | None = None
    schema_version: SchemaVersionCheck | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> PolicyCheckRequest:
        if (self.stream is None) == (self.schema_version is None):
            raise ValueError("give exactly one of 'stream' or 'schema_version'")
        return self


class WaiverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule_id: str
    target: str = Field(description="The subject or stream the waiver applies to.")
    expires_at: Instant = Field(description="ISO 8601 with a timezone, in the future.")
    reason: str = Field(description="Why breaking the rule is acceptable until then.")


def _violation(violation: Violation) -> ViolationPayload:
    return ViolationPayload(
        rule_id=violation.rule_id,
        severity=violation.severity.value,
        path=violation.path,
        message=violation.message,
        fix_hint=violation.fix_hint,
    )


def _decision(change: CheckedChange) -> CheckedChangePayload:
    decision: Decision = change.decision
    return CheckedChangePayload(
        scope=change.scope,
        target=change.target,
        allowed=decision.allowed,
        violations=[_violation(violation) for violation in decision.violations],
        warnings=[_violation(violation) for violation in decision.warnings],
        waived=[
            WaivedViolationPayload(
                **_violation(waived.violation).model_dump(),
                waiver_target=waived.waiver.target,
                waiver_expires_at=waived.waiver.expires_at,
                waiver_granted_by=waived.waiver.granted_by,
                waiver_reason=waived.waiver.reason,
            )
            for waived in decision.waived
        ],
    )


def _require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise PolicyAdminRequiredError(caller.identity)


@router.get("")
def list_rules(hub: HubDep, _caller: CurrentIdentity) -> list[RulePayload]:
    """The rules the hub loaded at start, in load order (shipped defaults first)."""
    return [
        RulePayload(
            id=listing.id,
            kind=listing.kind,
            severity=listing.severity.value,
            applies_to=[scope.value for scope in listing.scopes],
            description=listing.description,
            source=listing.source,
        )
        for listing in hub.policy_gate.policy_set.listing()
    ]


@router.post("/check")
def check(body: PolicyCheckRequest, hub: HubDep, caller: CurrentIdentity) -> PolicyCheckResponse:
    """Dry run: every violation of every rule the change would meet, as the caller; nothing is stored."""
    dry_run = PolicyDryRun(hub.sessions, hub.policy_gate, hub.schema_registry)
    if body.stream is not None:
        changes = dry_run.check_stream(caller.requester, body.stream)
    else:
        assert body.schema_version is not None
        version = body.schema_version
        changes = [
            dry_run.check_schema_version(caller.requester, version.subject, SchemaSubmission(version.schema_text))
        ]
    return PolicyCheckResponse(
        allowed=all(change.decision.allowed for change in changes), checks=[_decision(change) for change in changes]
    )


@router.get("/waivers")
def list_waivers(
    hub: HubDep, _caller: CurrentIdentity, include_inactive: Annotated[bool, Query()] = False
) -> list[StoredWaiver]:
    return hub.waivers.list(include_inactive)


@router.post("/waivers", status_code=201)
def grant_waiver(body: WaiverRequest, hub: HubDep, caller: CurrentIdentity) -> StoredWaiver:
    _require_admin(caller)
    return hub.waivers.grant(body.rule_id, body.target, body.expires_at, body.reason, caller.identity)


@router.delete("/waivers/{waiver_id}")
def revoke_waiver(waiver_id: RowId, hub: HubDep, caller: CurrentIdentity) -> StoredWaiver:
    _require_admin(caller)
    return hub.waivers.revoke(waiver_id, caller.identity)
