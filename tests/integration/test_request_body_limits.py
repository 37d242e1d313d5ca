"""Request bodies: refused before they are read when too large or from a caller the hub does not
authenticate, measured on a running hub (time to the answer, the hub process's peak memory)."""

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests
from cryptography import x509

from headwater.producers.connection import MtlsConnection
from headwater.registry.config import RegistrySettings
from tests.conftest import IdentityFactory, RunningBroker, RunningHub
from tests.hub_helpers import fresh_domain, hub_http_client

MIB = 1024 * 1024
SIXTY_MB = 60 * MIB
LIMIT: int = RegistrySettings.model_fields["max_request_body_bytes"].default
# Memory the hub may gain while refusing (TLS and socket buffers, the refusal itself); reading the
# body would take 60 MB at least.
MEMORY_SLACK_KIB = 12 * 1024


def _hub_pid(hub: RunningHub) -> int:
    """The hub process serving `hub`: its command line ends `hub serve --host HOST --port PORT`."""
    host, port = hub.base_url.removeprefix("https://").rsplit(":", 1)
    wanted = b"\0".join([b"hub", b"serve", b"--host", host.encode(), b"--port", port.encode(), b""])
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if wanted in cmdline.read_bytes():
                return int(cmdline.parent.name)
        except OSError:
            continue
    raise AssertionError(f"no hub process serves {hub.base_url}")


def _memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


class PeakMemory:
    """The hub's peak resident memory gained during a `with` block (Linux resets the peak on request)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.gained_kib = 0

    def __enter__(self) -> "PeakMemory":
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
        self._before = _memory_kib(self.pid, "VmRSS")
        return self

    def __exit__(self, *exception_info: object) -> None:
        self.gained_kib = _memory_kib(self.pid, "VmHWM") - self._before


def _revoked(issue_identity: IdentityFactory, shared_broker: RunningBroker) -> MtlsConnection:
    connection = issue_identity()
    serial = x509.load_pem_x509_certificate(connection.certificate_file.read_bytes()).serial_number
    shared_broker.ledger.revoke_certificate(format(serial, "x"))
    return connection


def _sixty_megabytes_in_chunks() -> Iterator[bytes]:
    """Sent without Content-Length (chunked): only counting while reading can refuse it."""
    chunk = b" " * MIB
    for _ in range(SIXTY_MB // MIB):
        yield chunk


def _send(client: httpx.Client, content: bytes | Iterator[bytes]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = client.post(
        "/subjects/body-limit-value/versions", content=content, headers={"content-type": "application/json"}
    )
    return response, time.monotonic() - started


def _assert_refused_early(
    response: httpx.Response, elapsed_s: float, memory: PeakMemory, status: int, code: int
) -> None:
    assert (response.status_code, response.json()["error_code"]) == (status, code), response.text
    # The client was still sending: the hub closes the connection rather than read the rest.
    assert response.headers["connection"] == "close"
    assert elapsed_s < 1.0, f"refused after {elapsed_s:.2f} s"
    assert memory.gained_kib < MEMORY_SLACK_KIB, f"the hub's peak memory grew by {memory.gained_kib} KiB"


@pytest.fixture
def hub_pid(shared_hub: RunningHub) -> int:
    return _hub_pid(shared_hub)


def test_sixty_megabytes_from_a_revoked_certificate_are_refused_unread_within_a_second(
    shared_hub: RunningHub, shared_broker: RunningBroker, issue_identity: IdentityFactory, hub_pid: int
) -> None:
    with hub_http_client(shared_hub, _revoked(issue_identity, shared_broker)) as client:
        with PeakMemory(hub_pid) as memory:
            response, elapsed_s = _send(client, b" " * SIXTY_MB)
    _assert_refused_early(response, elapsed_s, memory, 401, 40101)


def test_sixty_megabytes_from_an_unprivileged_identity_are_refused_unread_within_a_second(
    shared_hub: RunningHub, issue_identity: IdentityFactory, hub_pid: int
) -> None:
    with hub_http_client(shared_hub, issue_identity()) as client, PeakMemory(hub_pid) as memory:
        response, elapsed_s = _send(client, b" " * SIXTY_MB)
    _assert_refused_early(response, elapsed_s, memory, 413, 41301)
    assert f"{LIMIT}" in response.json()["message"]


def test_a_chunked_body_beyond_the_limit_is_refused_while_it_streams(
    shared_hub: RunningHub, issue_identity: IdentityFactory, hub_pid: int
) -> None:
    with hub_http_client(shared_hub, issue_identity()) as client, PeakMemory(hub_pid) as memory:
        response, elapsed_s = _send(client, _sixty_megabytes_in_chunks())
    _assert_refused_early(response, elapsed_s, memory, 413, 41301)


def test_a_chunked_body_from_a_revoked_certificate_is_refused_unread(
    shared_hub: RunningHub, shared_broker: RunningBroker, issue_identity: IdentityFactory, hub_pid: int
) -> None:
    with hub_http_client(shared_hub, _revoked(issue_identity, shared_broker)) as client:
        with PeakMemory(hub_pid) as memory:
            response, elapsed_s = _send(client, _sixty_megabytes_in_chunks())
    _assert_refused_early(response, elapsed_s, memory, 401, 40101)


def test_a_body_within_the_limit_is_read_and_the_connection_kept(
    shared_hub: RunningHub, issue_identity: IdentityFactory
) -> None:
    body = b'{"schema": "' + b"x" * (LIMIT - 100) + b'"}'
    with hub_http_client(shared_hub, issue_identity()) as client:
        response, _ = _send(client, body)
        # Read in full, then refused by authorisation: not the caller's subject.
        assert (response.status_code, response.json()["error_code"]) == (403, 40301), response.text
        assert response.headers.get("connection") != "close"
        assert client.get("/api/v1/identity").status_code == 200


def test_two_million_wrong_items_within_the_limit_cost_one_error_not_gigabytes(
    shared_hub: RunningHub, issue_identity: IdentityFactory, hub_pid: int
) -> None:
    """pydantic reports every wrong item of a list: two million of them once took the hub 22 s and
    2.3 GB. Collections are bounded before their items are validated."""
    body = b"[" + b"0," * 1_900_000 + b"0]"
    assert len(body) < LIMIT
    with hub_http_client(shared_hub, issue_identity()) as client, PeakMemory(hub_pid) as memory:
        started = time.monotonic()
        response = client.put(
            "/api/v1/streams/x.y/data-rules", content=body, headers={"content-type": "application/json"}
        )
        elapsed_s = time.monotonic() - started
    assert memory.gained_kib < 200 * 1024, f"the hub's peak memory grew by {memory.gained_kib} KiB"
    assert elapsed_s < 10, f"answered after {elapsed_s:.1f} s"
    assert (response.status_code, response.json()["error_code"]) == (422, 42200), response.text
    assert "at most 100 items" in response.json()["message"]


def test_a_manifest_larger_than_the_default_limit_is_read_for_its_domain_and_refused_unread_for_others(
    shared_hub: RunningHub, shared_broker: RunningBroker, issue_identity: IdentityFactory, hub_pid: int
) -> None:
    """A backfill's manifest grows with the stream's keys (about 28 bytes each: 1,000,000 keys are ~28 MB)
    and still travels as one body, so its route takes `max_manifest_body_bytes`, but only from the admin or
    an identity of the stream's domain: a stranger's large body is refused as fast as anywhere."""
    domain = fresh_domain(shared_hub, shared_broker)
    path = f"/api/v1/streams/{domain}.missing/manifests"
    body = b'{"entries": "' + b"A" * (2 * LIMIT) + b'"}'
    with hub_http_client(shared_hub, issue_identity(domain=domain)) as member:
        read = member.post(path, content=body, headers={"content-type": "application/json"})
    assert read.status_code != 413, read.text  # read and judged by the route (no such stream, a bad manifest)
    assert read.status_code < 500, read.text
    with hub_http_client(shared_hub, issue_identity()) as stranger, PeakMemory(hub_pid) as memory:
        started = time.monotonic()
        refused = stranger.post(path, content=b" " * SIXTY_MB, headers={"content-type": "application/json"})
        elapsed_s = time.monotonic() - started
    _assert_refused_early(refused, elapsed_s, memory, 413, 41301)
    assert "HEADWATER_MAX_REQUEST_BODY_BYTES" in refused.json()["message"]


def test_a_refused_caller_within_the_limit_reads_its_answer_not_a_broken_connection(
    shared_hub: RunningHub, shared_broker: RunningBroker, issue_identity: IdentityFactory, hub_pid: int
) -> None:
    """A client sends its whole body before it reads: cut off mid-body it sees a network error (schemathesis
    did, once its certificate was revoked). A body within the limit is read and dropped, then answered."""
    body = b'{"csr_pem": "' + b"A" * (LIMIT // 2) + b'"}'
    revoked = _revoked(issue_identity, shared_broker)
    # `requests` (schemathesis' client) writes the whole body before it reads the answer.
    with PeakMemory(hub_pid) as memory:
        response = requests.post(
            f"{shared_hub.base_url}/api/v1/identities",
            data=body,
            headers={"content-type": "application/json"},
            cert=(str(revoked.certificate_file), str(revoked.key_file)),
            verify=str(shared_hub.ca_file),
            timeout=30,
        )
    assert (response.status_code, response.json()["error_code"]) == (401, 40101), response.text
    assert response.headers["connection"] == "close"
    assert memory.gained_kib < MEMORY_SLACK_KIB, f"the hub's peak memory grew by {memory.gained_kib} KiB"
