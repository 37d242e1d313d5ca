"""A stream's data-contract rules: checked against its value schema when registered or replaced."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from headwater.policies import Requester
from headwater.policies.avro_cel_types import record_field_names
from headwater.policies.data_contract import DataContract, DataRule, DataRuleError
from headwater.registry.models import SchemaText, Stream, SubjectVersion
from headwater.registry.services.audit import DONE, record_audit
from headwater.registry.streams.errors import InvalidDataRulesError
from headwater.registry.streams.manifests import owned_stream


def check_data_rules(stream: str, rules: Sequence[DataRule], value_schema: str) -> None:
    """Raises InvalidDataRulesError naming every rule that cannot be used with `value_schema`."""
    problems = data_rule_problems(rules, value_schema)
    if problems:
        raise InvalidDataRulesError(stream, problems)


def data_rule_problems(rules: Sequence[DataRule], value_schema: str) -> list[str]:
    """Every problem of `rules` with `value_schema` (Avro JSON text): none when they can be used."""
    definition = json.loads(value_schema)
    try:
        DataContract(rules, record_field_names(definition), definition)
    except DataRuleError as error:
        return error.problems
    return []


class DataRulesBook:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def replace(self, requester: Requester, name: str, rules: Sequence[DataRule]) -> list[DataRule]:
        """The owner (or admin) replaces the stream's rules; producers opened later enforce them."""
        with self._sessions.begin() as session:
            stream = owned_stream(session, requester, name, "changing data rules")
            check_data_rules(name, rules, _latest_value_schema(session, stream))
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


def _latest_value_schema(session: Session, stream: Stream) -> str:
    latest = session.scalars(
        select(SchemaText.text)
        .join(SubjectVersion, SubjectVersion.schema_id == SchemaText.id)
        .where(SubjectVersion.subject == stream.value_subject, SubjectVersion.deleted.is_(False))
        .order_by(SubjectVersion.version.desc())
        .limit(1)
    ).first()
    assert latest is not None, f"stream {stream.name} has no value schema"
    return latest
