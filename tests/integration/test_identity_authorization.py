"""Who may issue, renew and revoke identities through the hub: every identity route, driven by every kind
of caller, against ordinary and platform targets (issue 13).

Before the fix an identity of the `platform` domain could renew `headwater-admin` and receive its new
certificate and private key, and could issue more platform identities: the rows naming `platform`
callers and protected targets below failed then (403 expected, 200/201 answered)."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from headwater.ledger import open_hub_database
from headwater.producers.connection import MtlsConnection
from headwater.registry.ca.authority import new_signing_request
from headwater.registry.models import Certificate
from tests.conftest import IdentityFactory, RunningBroker, RunningHub
from tests.crafted_certificates import CRAFTED_SUBJECTS, craft_certificate
from tests.hub_helpers import fresh_domain, hub_http_client

CALLERS = ("admin", "itself", "same-domain", "other-domain", "platform", "revoked")
"""Kinds of caller; `itself` is the target identity, `platform` an ordinary identity of the platform domain
(such as the admin may issue on the hub's machine), `revoked` one whose certificate was revoked."""


@dataclass
class World:
    """A domain with callers of every kind; `caller(kind, target)` connects as that kind for that target."""

    hub: RunningHub
    broker: RunningBroker
    domain: str
    issue: IdentityFactory
    callers: dict[str, MtlsConnection]

    def new_target(self) -> tuple[str, MtlsConnection]:
        name = f"{self.domain}-t{uuid.uuid4().hex[:6]}"
        return name, self.issue(name=name, domain=self.domain)

    def platform_connection(self, name: str) -> MtlsConnection:
        """A platform identity's own files, as the local stack keeps them in the state folder."""
        files = self.broker.broker.identity_files(name)
        return MtlsConnection(self.broker.bootstrap_servers, self.broker.settings.ca_file, files.certificate, files.key)

    def client(self, caller: str, target: MtlsConnection | None = None) -> httpx.Client:
        connection = target if caller == "itself" and target is not None else self.callers[caller]
        return hub_http_client(self.hub, connection)


def serial_of(connection: MtlsConnection) -> str:
    return format(x509.load_pem_x509_certificate(connection.certificate_file.read_bytes()).serial_number, "x")


@pytest.fixture
def world(shared_hub: RunningHub, shared_broker: RunningBroker, issue_identity: IdentityFactory) -> Iterator[World]:
    domain, other = fresh_domain(shared_hub, shared_broker), fresh_domain(shared_hub, shared_broker)
    revoked = issue_identity(name=f"{domain}-revoked", domain=domain)
    shared_broker.ledger.revoke_certificate(serial_of(revoked))
    callers = {
        "admin": shared_broker.admin_connection,
        "same-domain": issue_identity(name=f"{domain}-member", domain=domain),
        "other-domain": issue_identity(name=f"{other}-member", domain=other),
        "platform": issue_identity(name=f"plat-{uuid.uuid4().hex[:8]}", domain=shared_broker.settings.platform_domain),
        "revoked": revoked,
    }
    yield World(shared_hub, shared_broker, domain, issue_identity, callers)


def _csr(identity: str) -> str:
    return new_signing_request(identity)[0].decode()


def _answer(response: httpx.Response) -> tuple[int, int | None]:
    body = response.json()
    return response.status_code, body.get("error_code") if isinstance(body, dict) else None


def _expect(response: httpx.Response, expected: tuple[int, int | None], caller: str, what: str) -> None:
    assert _answer(response) == expected, f"{what} as {caller}: {response.status_code} {response.text}"
    if response.is_success:
        assert "private_key" not in response.text, f"{what} as {caller} returned a private key"


OK_201, OK_200 = (201, None), (200, None)
UNAUTHENTICATED, FORBIDDEN, PROTECTED = (401, 40101), (403, 40340), (403, 40341)

ISSUE_IN_DOMAIN = {
    "admin": OK_201,
    "itself": OK_201,
    "same-domain": OK_201,
    "other-domain": FORBIDDEN,
    "platform": FORBIDDEN,
    "revoked": UNAUTHENTICATED,
}
ISSUE_IN_PLATFORM = {caller: PROTECTED for caller in CALLERS} | {"revoked": UNAUTHENTICATED}
RENEW_ORDINARY = {caller: FORBIDDEN for caller in CALLERS} | {"itself": OK_200, "revoked": UNAUTHENTICATED}
RENEW_PROTECTED = {caller: PROTECTED for caller in CALLERS} | {"revoked": UNAUTHENTICATED}
REVOKE_ORDINARY = {
    "admin": OK_200,
    "itself": OK_200,
    "same-domain": OK_200,
    "other-domain": FORBIDDEN,
    "platform": FORBIDDEN,
    "revoked": UNAUTHENTICATED,
}
REVOKE_PROTECTED_IDENTITY = {caller: PROTECTED for caller in CALLERS} | {"revoked": UNAUTHENTICATED}
# `itself` is headwater-admin here: the admin may revoke a leaked certificate of its own.
REVOKE_PROTECTED_SERIAL = {caller: PROTECTED for caller in CALLERS} | {
    "admin": OK_200,
    "itself": OK_200,
    "revoked": UNAUTHENTICATED,
}
LIST = {caller: OK_200 for caller in CALLERS} | {"revoked": UNAUTHENTICATED}


def _matrix(
    world: World, expected: dict[str, tuple[int, int | None]], what: str, call: Callable[..., httpx.Response]
) -> None:
    """`call(client, target_name, target_connection)` for every kind of caller, each with a fresh target."""
    assert set(expected) == set(CALLERS)
    for caller in CALLERS:
        name, target = world.new_target()
        with world.client(caller, target) as client:
            _expect(call(client, name, target), expected[caller], caller, what)


def test_issuing_an_identity_of_a_domain(world: World) -> None:
    _matrix(
        world,
        ISSUE_IN_DOMAIN,
        "issue",
        lambda client, name, _target: client.post(
            "/api/v1/identities", json={"name": f"{name}-new", "domain": world.domain, "csr_pem": _csr(name)}
        ),
    )


def test_nobody_issues_platform_identities_through_the_api(world: World) -> None:
    platform = world.broker.settings.platform_domain
    _matrix(
        world,
        ISSUE_IN_PLATFORM,
        "issue in the platform domain",
        lambda client, name, _target: client.post(
            "/api/v1/identities", json={"name": f"p{uuid.uuid4().hex[:8]}", "domain": platform, "csr_pem": _csr(name)}
        ),
    )
    # A protected name in an ordinary domain is refused too.
    with world.client("admin") as admin:
        admin_name = world.broker.settings.admin_identity
        body = {"name": admin_name, "domain": world.domain, "csr_pem": _csr(admin_name)}
        _expect(admin.post("/api/v1/identities", json=body), PROTECTED, "admin", "issue headwater-admin")


def test_an_identity_renews_only_itself(world: World) -> None:
    _matrix(
        world,
        RENEW_ORDINARY,
        "renew",
        lambda client, name, _target: client.post(f"/api/v1/identities/{name}/renew", json={"csr_pem": _csr(name)}),
    )


@pytest.mark.parametrize("protected", ["admin_identity", "broker_identity", "hub"])
def test_nobody_renews_a_platform_identity_through_the_api(world: World, protected: str) -> None:
    """The privilege escalation of issue 13: a `platform` identity renewing `headwater-admin` got its key."""
    settings = world.broker.settings
    name = "headwater-hub" if protected == "hub" else getattr(settings, protected)
    for caller in CALLERS:
        with world.client(caller, world.platform_connection(name)) as client:
            response = client.post(f"/api/v1/identities/{name}/renew", json={"csr_pem": _csr(name)})
            _expect(response, RENEW_PROTECTED[caller], caller, f"renew {name}")


def test_revoking_an_identity(world: World) -> None:
    _matrix(
        world, REVOKE_ORDINARY, "revoke", lambda client, name, _target: client.post(f"/api/v1/identities/{name}/revoke")
    )


def test_nobody_revokes_a_platform_identity_through_the_api(world: World) -> None:
    admin_identity = world.broker.settings.admin_identity
    for caller in CALLERS:
        with world.client(caller, world.platform_connection(admin_identity)) as client:
            response = client.post(f"/api/v1/identities/{admin_identity}/revoke")
            _expect(response, REVOKE_PROTECTED_IDENTITY[caller], caller, "revoke headwater-admin")


def test_revoking_one_certificate(world: World) -> None:
    _matrix(
        world,
        REVOKE_ORDINARY,
        "revoke a certificate",
        lambda client, _name, target: client.post(f"/api/v1/certificates/{serial_of(target)}/revoke"),
    )


def test_only_the_admin_revokes_a_single_certificate_of_a_platform_identity(world: World) -> None:
    settings = world.broker.settings
    for caller in CALLERS:
        # A second admin certificate each time (as a leaked one would be), so the real admin's stays valid.
        spare = world.broker.ledger.issue(settings.admin_identity, settings.platform_domain)
        with world.client(caller, world.platform_connection(settings.admin_identity)) as client:
            response = client.post(f"/api/v1/certificates/{spare.serial_hex}/revoke")
            _expect(response, REVOKE_PROTECTED_SERIAL[caller], caller, "revoke a headwater-admin certificate")
        revoked = world.broker.ledger.certificate(spare.serial_hex).revoked_at is not None
        assert revoked == (caller in ("admin", "itself")), caller
    with world.client("admin") as admin:  # the admin's own certificate still works
        assert admin.get("/api/v1/identity").json()["is_admin"] is True


def test_listing_identities(world: World) -> None:
    for caller in CALLERS:
        with world.client(caller, world.new_target()[1]) as client:
            _expect(client.get("/api/v1/identities", params={"domain": world.domain}), LIST[caller], caller, "list")


def test_a_renewal_certifies_the_callers_new_key_with_the_callers_subject_only(world: World, tmp_path: Path) -> None:
    name, target = world.new_target()
    # The CSR asks for the admin's name: only its public key may be used.
    csr_pem, key_pem = new_signing_request(world.broker.settings.admin_identity)
    with world.client("itself", target) as client:
        renewed = client.post(f"/api/v1/identities/{name}/renew", json={"csr_pem": csr_pem.decode()})
        assert renewed.status_code == 200, renewed.text
        assert set(renewed.json()) == {"identity", "domain", "serial", "not_after", "certificate_pem"}
        certificate = x509.load_pem_x509_certificate(renewed.json()["certificate_pem"].encode())
        assert certificate.subject.rfc4514_string() == f"CN={name},OU={world.domain},O=headwater"
        key = serialization.load_pem_private_key(key_pem, password=None)
        assert certificate.public_key() == key.public_key()
        # The old certificate keeps working through the grace period; it is scheduled for revocation.
        assert client.get("/api/v1/identity").status_code == 200
        old = world.broker.ledger.certificate(serial_of(target))
        assert old.revoked_at is not None and old.revoked_at > certificate.not_valid_before_utc
        # The same key again is refused: every renewal needs a new key pair.
        again = client.post(f"/api/v1/identities/{name}/renew", json={"csr_pem": csr_pem.decode()})
        _expect(again, (409, 40912), "itself", "renew with a reused key")
        broken = client.post(f"/api/v1/identities/{name}/renew", json={"csr_pem": "not a CSR"})
        _expect(broken, (422, 42211), "itself", "renew with a broken CSR")
    # The renewed files authenticate as the same identity.
    (tmp_path / "new.crt").write_text(renewed.json()["certificate_pem"])
    (tmp_path / "new.key").write_bytes(key_pem)
    renewed_connection = MtlsConnection(
        target.bootstrap_servers, target.ca_file, tmp_path / "new.crt", tmp_path / "new.key"
    )
    with hub_http_client(world.hub, renewed_connection) as client:
        assert client.get("/api/v1/identity").json()["identity"] == name


@pytest.mark.parametrize("shape", sorted(CRAFTED_SUBJECTS))
def test_a_subject_that_names_no_identity_is_refused_by_the_hub(
    shape: str, shared_hub: RunningHub, shared_broker: RunningBroker, tmp_path: Path
) -> None:
    """Finding 3: the broker's old principal rule read `CN=evil,CN=headwater-admin` as the admin. The hub
    and the broker now apply one rule (`identity_rule.py`); the broker side is in test_broker_revocation."""
    settings = shared_broker.settings
    crafted = craft_certificate(settings.ca_dir, CRAFTED_SUBJECTS[shape], tmp_path, shape)
    # Recorded in the ledger as if issued to the admin, so only the subject rule can refuse it.
    now = datetime.now(UTC)
    with open_hub_database(settings).begin() as session:
        session.add(
            Certificate(
                serial=format(crafted.serial, "x"),
                identity_name=settings.admin_identity,
                not_before=now - timedelta(minutes=5),
                not_after=now + timedelta(hours=1),
                issued_at=now,
                issued_via="hub-machine",
            )
        )
    connection = MtlsConnection("", settings.ca_file, crafted.certificate_file, crafted.key_file)
    with hub_http_client(shared_hub, connection) as client:
        for response in (client.get("/api/v1/identity"), client.get("/api/v1/identities")):
            _expect(response, UNAUTHENTICATED, shape, "call with a crafted subject")
            assert "names no identity" in response.json()["message"]
