"""Registering streams through the service, against the real broker, on SQLite and PostgreSQL: each step
and its undoing, races on one name, and the reconciler finishing what a dead hub left PENDING."""

import json
import shutil
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from headwater.policies import Requester
from headwater.registry.ca import CertificateAuthority, CertificateLedger
from headwater.registry.ca.protected import ProtectedIdentities
from headwater.registry.database import session_factory
from headwater.registry.governance.errors import PolicyViolationError
from headwater.registry.kafka_acls import current_bindings, producer_bindings
from headwater.registry.kafka_topics import topic_exists
from headwater.registry.models import AuditEntry, Stream, SubjectVersion
from headwater.registry.services.schema_registry import SchemaRegistry
from headwater.registry.streams.definition import StreamDefinition
from headwater.registry.streams.domains import DomainBook
from headwater.registry.streams.errors import (
    DomainNotFoundError,
    InvalidStreamNameError,
    RegistrationStepFailedError,
    StreamAlreadyExistsError,
    StreamWriteForbiddenError,
)
from headwater.registry.streams.registration import STEPS, SimulatedCrash, StreamRegistration
from tests.conftest import RunningBroker
from tests.policy_helpers import SHIPPED_POLICIES

ADMIN = Requester("headwater-admin", "platform", is_admin=True)

KEY = {"type": "record", "name": "OrderKey", "fields": [{"name": "order_id", "type": "string", "doc": "Order id."}]}
VALUE = {
    "type": "record",
    "name": "Order",
    "fields": [
        {"name": "order_id", "type": "string", "doc": "Order id."},
        {
            "name": "buyer",
            "doc": "Who ordered.",
            "type": {
                "type": "record",
                "name": "Buyer",
                "fields": [{"name": "email", "type": "string", "doc": "Contact address.", "tags": ["pii"]}],
            },
        },
        {"name": "amount_minor", "type": "long", "doc": "Amount in minor units."},
    ],
}


def spec(name: str, **changes: object) -> dict[str, object]:
    """A stream spec (as JSON) that passes the shipped policies, with `changes` applied."""
    return {
        "name": name,
        "description": "Orders accepted by checkout.",
        "owner_team": "payments-core",
        "contact": "payments@example.com",
        "partitions": 3,
        "key_schema": json.dumps(KEY),
        "value_schema": json.dumps(VALUE),
        **changes,
    }


def definition(name: str, **changes: object) -> StreamDefinition:
    return StreamDefinition.model_validate(spec(name, **changes))


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return session_factory(migrated_engine)


@pytest.fixture
def domain(sessions: sessionmaker[Session]) -> str:
    name = f"d{uuid.uuid4().hex[:10]}"
    DomainBook(sessions).create(name, "payments-core", "payments@example.com", "headwater-admin")
    return name


@pytest.fixture
def admin(shared_broker: RunningBroker) -> AdminClient:
    return shared_broker.admin()


RegistrationFactory = Callable[..., StreamRegistration]


@pytest.fixture
def registration(
    sessions: sessionmaker[Session], shared_broker: RunningBroker, admin: AdminClient, tmp_path: Path
) -> RegistrationFactory:
    # The shared broker's CA, in a folder of this test: this ledger's own database must not rewrite the
    # revocation list the shared broker enforces (one list per CA folder and database).
    shutil.copytree(shared_broker.settings.ca_dir, tmp_path / "ca", ignore=shutil.ignore_patterns("revocations.txt", ".*"))
    ledger = CertificateLedger(CertificateAuthority.load(tmp_path / "ca"), sessions, shared_broker.settings.lifetimes)
    settings = shared_broker.settings
    protected = ProtectedIdentities(
        frozenset((settings.admin_identity, settings.broker_identity)), settings.platform_domain
    )

    def build(**options: object) -> StreamRegistration:
        registry = SchemaRegistry(sessions, SHIPPED_POLICIES)
        return StreamRegistration(
            sessions, registry, SHIPPED_POLICIES, ledger, lambda: admin, protected, **options  # type: ignore[arg-type]
        )

    return build


def _owner_acls(admin: AdminClient, owner: str, topic: str) -> set[object]:
    return set(producer_bindings(owner, topic)) & current_bindings(admin)


def assert_nothing_left(sessions: sessionmaker[Session], admin: AdminClient, name: str, owner: str) -> None:
    assert not topic_exists(admin, name)
    assert _owner_acls(admin, owner, name) == set()
    with sessions() as session:
        assert session.get(Stream, name) is None
        subjects = session.scalars(
            select(SubjectVersion.subject).where(SubjectVersion.subject.in_([f"{name}-key", f"{name}-value"]))
        ).all()
        assert subjects == []


def test_a_registration_creates_the_topic_schemas_acls_owner_certificate_and_catalog_rows(
    registration: RegistrationFactory, sessions: sessionmaker[Session], admin: AdminClient, domain: str
) -> None:
    name = f"{domain}.order"
    owner = f"{domain}-orders-svc"
    registered = registration().register(ADMIN, definition(name, owner=owner, tags=["finance"]))

    assert (registered.state, registered.owner) == ("REGISTERED", owner)
    assert registered.issued_certificate is not None and registered.issued_certificate.identity == owner
    resource = ConfigResource(ResourceType.TOPIC, name)
    config = admin.describe_configs([resource])[resource].result()
    assert (config["cleanup.policy"].value, config["retention.ms"].value) == ("compact", "-1")
    assert config["delete.retention.ms"].value == str(7 * 24 * 3600 * 1000)
    assert len(admin.list_topics(topic=name, timeout=10).topics[name].partitions) == 3
    assert _owner_acls(admin, owner, name) == set(producer_bindings(owner, name))
    with sessions() as session:
        row = session.get(Stream, name)
        assert row is not None and row.state == "REGISTERED" and row.has_pii and row.lease_expires_at is None
        audit = session.scalars(select(AuditEntry).where(AuditEntry.target == name)).all()
        assert [(entry.action, entry.outcome) for entry in audit] == [("stream.register", "done")]


@pytest.mark.parametrize("step", [step for step in STEPS if step != "policies"])
def test_a_failure_after_each_step_undoes_everything_before_it(
    registration: RegistrationFactory, sessions: sessionmaker[Session], admin: AdminClient, domain: str, step: str
) -> None:
    name = f"{domain}.order"
    owner = f"{domain}-svc"

    with pytest.raises(RegistrationStepFailedError) as failed:
        registration(faults={step: "fail-after" if step != "catalog" else "fail"}).register(
            ADMIN, definition(name, owner=owner)
        )

    assert failed.value.step == step
    assert f"failed at step '{step}'" in str(failed.value) and "nothing is left behind" in str(failed.value)
    assert_nothing_left(sessions, admin, name, owner)
    # The same registration then goes through: nothing of the failed one is in its way.
    assert registration().register(ADMIN, definition(name, owner=owner)).state == "REGISTERED"


def test_a_policy_violation_refuses_with_every_violation_and_leaves_nothing(
    registration: RegistrationFactory, sessions: sessionmaker[Session], admin: AdminClient, domain: str
) -> None:
    name = f"{domain}.order"
    undocumented = {"type": "record", "name": "Order", "fields": [{"name": "order_id", "type": "string"}]}
    bad = definition(name, owner_team="", partitions=100, value_schema=json.dumps(undocumented))

    with pytest.raises(PolicyViolationError) as refused:
        registration().register(ADMIN, bad)

    assert {violation.rule_id for violation in refused.value.violations} == {
        "owner-team-and-contact-present",
        "partitions-within-bounds",
        "fields-documented",
    }
    assert_nothing_left(sessions, admin, name, ADMIN.identity)


def test_concurrent_registrations_of_one_name_register_it_once(
    registration: RegistrationFactory, sessions: sessionmaker[Session], admin: AdminClient, domain: str
) -> None:
    name = f"{domain}.order"
    service = registration()

    def attempt(_: int) -> str:
        try:
            service.register(ADMIN, definition(name, owner=f"{domain}-svc"))
            return "registered"
        except StreamAlreadyExistsError:
            return "409"

    with ThreadPoolExecutor(max_workers=5) as pool:
        outcomes = list(pool.map(attempt, range(5)))

    assert sorted(outcomes) == ["409"] * 4 + ["registered"]
    assert topic_exists(admin, name)
    with sessions() as session:
        assert session.get(Stream, name).state == "REGISTERED"  # type: ignore[union-attr]


@pytest.mark.parametrize("step", ["owner_identity", "schemas", "topic", "acls"])
def test_the_reconciler_undoes_a_registration_whose_hub_died_mid_way(
    registration: RegistrationFactory, sessions: sessionmaker[Session], admin: AdminClient, domain: str, step: str
) -> None:
    name = f"{domain}.order"
    owner = f"{domain}-svc"
    # The "hub" dies right after the step acted: no compensation runs, the row stays PENDING.
    with pytest.raises(SimulatedCrash):
        registration(faults={step: "crash"}, lease=timedelta(seconds=0.5)).register(
            ADMIN, definition(name, owner=owner)
        )
    with sessions() as session:
        row = session.get(Stream, name)
        assert row is not None and row.state == "PENDING" and step in row.registration_steps
    reconciler = registration(lease=timedelta(seconds=0.5))
    assert reconciler.reconcile() == []  # its lease has not run out yet: the hub may still be working on it

    time.sleep(0.6)
    assert reconciler.reconcile() == [name]

    assert_nothing_left(sessions, admin, name, owner)
    with sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.target == name)).all()[-1]
        assert (entry.actor, entry.outcome) == ("headwater", "refused")
        assert "undone by the reconciler" in entry.details["reason"]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("orders", "has no '.'"),
        ("Payments.order", "domain 'Payments'"),
        ("payments.Order", "entity 'Order'"),
        ("payments.or der", "entity 'or der'"),
        ("payments.order_v2", "entity 'order_v2'"),
        ("payments." + "x" * 200, "longer than 200"),
    ],
)
def test_malformed_names_are_refused_before_anything_is_written(
    registration: RegistrationFactory, sessions: sessionmaker[Session], name: str, problem: str
) -> None:
    with pytest.raises(InvalidStreamNameError, match=problem):
        registration().register(ADMIN, definition(name))
    with sessions() as session:
        assert session.scalars(select(Stream)).all() == []


def test_unknown_domain_and_foreign_domain_are_refused(registration: RegistrationFactory, domain: str) -> None:
    with pytest.raises(DomainNotFoundError, match="Domain 'nowhere' does not exist"):
        registration().register(ADMIN, definition("nowhere.order"))
    with pytest.raises(StreamWriteForbiddenError, match="register streams of domain"):
        registration().register(Requester("shop-svc", "shop"), definition(f"{domain}.order"))


def test_a_stream_name_is_taken_once_registered(registration: RegistrationFactory, domain: str) -> None:
    registration().register(ADMIN, definition(f"{domain}.order", owner=f"{domain}-svc"))
    with pytest.raises(StreamAlreadyExistsError, match="already exists \\(REGISTERED\\)"):
        registration().register(ADMIN, definition(f"{domain}.order", owner=f"{domain}-svc"))
