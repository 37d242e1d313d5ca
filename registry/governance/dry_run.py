"""`POST /api/v1/policies/check`: what the policies would decide about a change, without making it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from headwater.policies import Decision, PolicyContext, Requester
from headwater.registry.governance.contexts import schema_version_context, stream_registration_contexts
from headwater.registry.governance.gate import PolicyGate
from headwater.registry.services.schema_registry import SchemaRegistry, SchemaSubmission, parse_submission
from headwater.registry.streams.definition import StreamDefinition


@dataclass(frozen=True)
class CheckedChange:
    """The decision about one part of a change: the stream registration, or one subject's schema version."""

    scope: str
    target: str
    decision: Decision


class PolicyDryRun:
    def __init__(self, sessions: sessionmaker[Session], gate: PolicyGate, registry: SchemaRegistry) -> None:
        self._sessions = sessions
        self._gate = gate
        self._registry = registry

    def check_stream(self, requester: Requester, definition: StreamDefinition) -> list[CheckedChange]:
        """The registration, then the key and the value subject's first version; invalid schemas raise 42201."""
        key = parse_submission(SchemaSubmission(definition.key_schema))
        value = parse_submission(SchemaSubmission(definition.value_schema))
        contexts = stream_registration_contexts(requester, definition, key, value)
        targets = [definition.name, definition.key_subject, definition.value_subject]
        return [self._decide(context, target) for context, target in zip(contexts, targets, strict=True)]

    def check_schema_version(self, requester: Requester, subject: str, submission: SchemaSubmission) -> CheckedChange:
        """A new version of `subject`, judged against its latest live version as registration would."""
        schema = parse_submission(submission)
        previous = self._registry.latest_live_schema(subject)
        return self._decide(schema_version_context(requester, subject, schema, previous), subject)

    def _decide(self, context: PolicyContext, target: str) -> CheckedChange:
        with self._sessions() as session:
            return CheckedChange(context.scope.value, target, self._gate.decide(session, context))
