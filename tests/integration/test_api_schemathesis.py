"""schemathesis against the hub's own OpenAPI document, over mTLS with a valid admin certificate, on
SQLite and PostgreSQL: every phase (examples, coverage, fuzzing, stateful links), no 5xx, every answer
conforming to the documented schema.

Each run gets a hub with a database of its own (global settings the fuzzer changes, such as READONLY
mode, never reach other tests); its admin certificate is recorded in that database's ledger."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from headwater.ledger import open_ledger
from headwater.local import hub as hub_server
from headwater.local import processes
from headwater.producers.connection import client_ssl_context
from tests.conftest import RunningBroker

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
CHECKS = "not_a_server_error,response_schema_conformance"
MAX_EXAMPLES = "15"
MAX_TIME_S = "150"


@pytest.fixture
def fuzzed_hub(shared_broker: RunningBroker, database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    # Its own database, so its own revocation list: the shared broker's must not be rewritten from it.
    settings = shared_broker.settings.model_copy(
        update={"database_url": database_url, "revocation_list_file": tmp_path / "revocations.txt"}
    )
    issued = open_ledger(settings, create_authority=False).issue(settings.admin_identity, settings.platform_domain)
    certificate, key = issued.write(tmp_path / "admin")
    port = processes.free_port()
    base_url = f"https://127.0.0.1:{port}"
    pid = hub_server.start_background(settings, port)
    try:
        _wait_until_answering(base_url, settings.ca_file, certificate, key, pid)
        yield base_url, certificate, key
    finally:
        processes.stop_process(pid)


def _wait_until_answering(base_url: str, ca_file: Path, certificate: Path, key: Path, pid: int) -> None:
    context = client_ssl_context(ca_file, certificate, key)
    with httpx.Client(base_url=base_url, verify=context, timeout=5) as client:
        failure = hub_server.wait_for_answer(client, pid, "/api/v1/health", timeout_s=60)
    assert failure is None, f"the fuzzed hub did not become healthy: {failure}"


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    fuzzed_hub: tuple[str, Path, Path], shared_broker: RunningBroker
) -> None:
    base_url, certificate, key = fuzzed_hub
    result = subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            f"{base_url}/api/v1/openapi.json",
            "--checks",
            CHECKS,
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            MAX_EXAMPLES,
            "--max-time",
            MAX_TIME_S,
            "--workers",
            "1",
            "--seed",
            "20261125",
            "--tls-verify",
            str(shared_broker.settings.ca_file),
            "--request-cert",
            str(certificate),
            "--request-cert-key",
            str(key),
            "--request-timeout",
            "60",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={"NO_COLOR": "1", "COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
