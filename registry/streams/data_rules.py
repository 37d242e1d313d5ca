"""A stream's data-contract rules: checked against its value schema when registered or replaced."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from headwater.policies import Requester
from headwater.policies.data_contract import DataRule, contract_problems
from headwater.registry.services.audit import DONE, record_audit
from headwater.registry.services.schema_registry import SchemaRegistry
from headwater.registry.streams.errors import InvalidDataRulesError
from headwater.registry.streams.manifests import owned_stream


def check_data_rules(stream: str, rules: Sequence[DataRule], value_schema: str) -> None:
    """Raises InvalidDataRulesError naming every rule that cannot be used with `value_schema`."""
    problems = contract_problems(rules, value_schema)
    if problems:
        raise InvalidDataRulesError(stream, problems)


class DataRulesBook:
    def __init__(self, sessions: sessionmaker[Session], registry: SchemaRegistry) -> None:
        self._sessions, self._registry = sessions, registry

    def replace(self, requester: Requester, name: str, rules: Sequence[DataRule]) -> list[DataRule]:
        """The owner (or admin) replaces the stream's rules; producers opened later enforce them."""
        with self._sessions.begin() as session:
            stream = owned_stream(session, requester, name, "changing data rules")
            value_schema = self._registry.latest_live_schema(stream.value_subject)
            assert value_schema is not None, f"stream {name} has no value schema"
            check_data_rules(name, rules, value_schema.canonical_text)
            before = {"data_rules": stream.data_rules}
            stream.data_rules = [vars(rule) for rule in rules]
            stream.updated_at = datetime.now(UTC)
            record_audit(
                session,
                requester.identity,
                "stream.data-rules",
                name,
                DONE,
                {},
                before,
                {"data_rules": stream.data_rules},
            )
        return list(rules)
