"""Concurrent registrations on a real database, SQLite and PostgreSQL: none fails, whatever the
contention, and schema ids stay unique, stable and dense."""

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine

from headwater.registry.database import session_factory
from headwater.registry.services.schema_registry import RegisteredVersion, SchemaRegistry, SchemaSubmission
from tests.policy_helpers import SHIPPED_POLICIES

WRITERS = 20


@pytest.fixture
def registry(migrated_engine: Engine) -> SchemaRegistry:
    return SchemaRegistry(session_factory(migrated_engine), SHIPPED_POLICIES)


def _schema(name: str, *extra_fields: str) -> SchemaSubmission:
    fields = [{"name": "id", "type": "string"}]
    fields += [{"name": field, "type": "string", "default": ""} for field in extra_fields]
    return SchemaSubmission(json.dumps({"type": "record", "name": name, "fields": fields}))


def _all_at_once(work: Callable[[int], list[RegisteredVersion]]) -> list[RegisteredVersion]:
    """Run `work(writer)` on WRITERS threads released together; every registration they made."""
    start = threading.Barrier(WRITERS)

    def writer(index: int) -> list[RegisteredVersion]:
        start.wait()
        return work(index)

    with ThreadPoolExecutor(WRITERS) as pool:
        return [registered for batch in pool.map(writer, range(WRITERS)) for registered in batch]


def test_twenty_writers_registering_distinct_subjects_all_succeed_with_unique_dense_ids(
    registry: SchemaRegistry,
) -> None:
    rounds = 3
    registered = _all_at_once(
        lambda writer: [
            registry.register(f"w{writer}-r{round_}-value", _schema(f"W{writer}R{round_}")) for round_ in range(rounds)
        ]
    )
    ids = sorted(version.schema_id for version in registered)
    assert ids == list(range(1, WRITERS * rounds + 1))
    for version in registered:
        assert registry.schema_by_id(version.schema_id).text == registry.version(version.subject, "1", False).text


def test_twenty_writers_of_one_schema_under_distinct_subjects_share_one_id(registry: SchemaRegistry) -> None:
    registered = _all_at_once(lambda writer: [registry.register(f"same-{writer}-value", _schema("Same"))])
    assert {version.schema_id for version in registered} == {1}
    assert {version.version for version in registered} == {1}


def test_twenty_writers_adding_versions_to_one_subject_get_consecutive_versions(registry: SchemaRegistry) -> None:
    registry.register("shared-value", _schema("Shared"))
    registered = _all_at_once(lambda writer: [registry.register("shared-value", _schema("Shared", f"f{writer}"))])
    # Each added field has a default: every version is compatible with every other one (BACKWARD).
    assert sorted(version.version for version in registered) == list(range(2, WRITERS + 2))
    assert len({version.schema_id for version in registered}) == WRITERS
