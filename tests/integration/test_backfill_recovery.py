"""The backfill at scale and under failure, through the CLI as a user runs it: a million PostgreSQL rows
published and certified; the backfill process and, separately, the broker killed with SIGKILL after
at least 30% progress, then the backfill resumed with no clean-up, ending in a manifest that certifies."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from headwater.local import hub as hub_server
from headwater.local import processes
from headwater.local.postgres import PrivatePostgres
from headwater.producers.connection import MtlsConnection
from headwater.registry.ca import CertificateKind
from tests.conftest import RunningBroker, RunningHub
from tests.hub_helpers import fresh_domain
from tests.integration.test_backfill import register_accounts
from tests.integration.test_cli import HEADWATER


def accounts_database(server: PrivatePostgres, rows: int) -> str:
    url = server.create_database(f"source_{uuid.uuid4().hex[:12]}")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE accounts (account_id BIGINT PRIMARY KEY, holder TEXT NOT NULL, "
                "balance_minor BIGINT NOT NULL, currency TEXT NOT NULL)"
            )
        )
        connection.execute(
            text("INSERT INTO accounts SELECT n, 'holder-' || n, n * 7, 'EUR' FROM generate_series(1, :rows) AS n"),
            {"rows": rows},
        )
    engine.dispose()
    return url


def cli_environment(hub: RunningHub, identity: MtlsConnection) -> dict[str, str]:
    return {
        **os.environ,
        "COLUMNS": "250",
        "HEADWATER_HUB_URL": hub.base_url,
        "HEADWATER_IDENTITY_CERT_FILE": str(identity.certificate_file),
        "HEADWATER_IDENTITY_KEY_FILE": str(identity.key_file),
    }


def backfill_command(broker: RunningBroker, stream: str, url: str, work_dir: Path) -> list[str]:
    state = str(broker.settings.state_dir)
    return [HEADWATER, "--state-dir", state, "backfill", stream, "--from", url, "--table", "accounts"] + [
        "--work-dir",
        str(work_dir),
    ]


def run_headwater(command: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=900, check=False)


def certify_through_cli(broker: RunningBroker, stream: str, environment: dict[str, str]) -> str:
    command = [HEADWATER, "--state-dir", str(broker.settings.state_dir), "streams", "certify", stream]
    certified = run_headwater(command, environment)
    assert certified.returncode == 0, certified.stdout + certified.stderr
    assert f"{stream} is CERTIFIED" in certified.stdout
    return certified.stdout


def wait_for_checkpoint(work_dir: Path, at_least: int, process: subprocess.Popen[str], timeout_s: float = 300) -> int:
    """Records the backfill has checkpointed, once at least `at_least` (it checkpoints every 5 s)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the backfill ended before reaching the point to interrupt it"
        try:
            sent = int(json.loads((work_dir / "checkpoint.json").read_text())["sent"])
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            sent = 0
        if sent >= at_least:
            return sent
        time.sleep(0.2)
    raise AssertionError(f"no checkpoint of {at_least} records within {timeout_s} s")


def owner_identity(broker: RunningBroker, hub: RunningHub, folder: Path) -> MtlsConnection:
    issued = broker.ledger.issue(f"svc-{uuid.uuid4().hex[:8]}", fresh_domain(hub, broker), CertificateKind.CLIENT)
    certificate, key = issued.write(folder)
    return MtlsConnection(broker.bootstrap_servers, broker.settings.ca_file, certificate, key)


def test_a_million_postgresql_rows_are_published_and_certified(
    shared_broker: RunningBroker, shared_hub: RunningHub, postgres_server: PrivatePostgres, tmp_path: Path
) -> None:
    owner = owner_identity(shared_broker, shared_hub, tmp_path / "identity")
    stream = register_accounts(shared_hub, owner, partitions=6)
    url = accounts_database(postgres_server, 1_000_000)
    environment = cli_environment(shared_hub, owner)

    published = run_headwater(backfill_command(shared_broker, stream, url, tmp_path / "w"), environment)

    assert published.returncode == 0, published.stdout + published.stderr
    assert f"Published 1,000,000 keys of {stream}" in published.stdout
    assert "password" not in published.stdout  # the source is named without credentials
    report = certify_through_cli(shared_broker, stream, environment)
    assert "all 1000000 manifest keys are present (1000000 as published)" in report


def test_a_killed_backfill_resumes_where_it_checkpointed(
    shared_broker: RunningBroker, shared_hub: RunningHub, postgres_server: PrivatePostgres, tmp_path: Path
) -> None:
    rows = 400_000
    owner = owner_identity(shared_broker, shared_hub, tmp_path / "identity")
    stream = register_accounts(shared_hub, owner)
    url = accounts_database(postgres_server, rows)
    environment = cli_environment(shared_hub, owner)
    command = backfill_command(shared_broker, stream, url, tmp_path / "w")

    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        checkpointed = wait_for_checkpoint(tmp_path / "w", int(rows * 0.3), process)
        time.sleep(0.5)  # records sent after the checkpoint: the resumed run sends them again
        assert process.poll() is None
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.communicate(timeout=30)
    assert checkpointed < rows

    resumed = run_headwater(command, environment)  # the same command again, nothing cleaned up

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Resuming the unfinished backfill" in resumed.stdout
    assert f"Published {rows:,} keys of {stream}" in resumed.stdout and "(2 run(s)" in resumed.stdout
    # Killed after the checkpoint was seen, the first run had sent more since: those are counted.
    assert re.search(r"[1-9][\d,]* record\(s\) sent again after a resume", resumed.stdout), resumed.stdout
    certify_through_cli(shared_broker, stream, environment)


@pytest.fixture
def private_hub(private_broker: RunningBroker) -> Iterator[RunningHub]:
    port = processes.free_port()
    pid = hub_server.start_background(private_broker.settings, port)
    try:
        base_url = f"https://127.0.0.1:{port}"
        hub_server.wait_until_healthy(private_broker.settings, pid, base_url, timeout_s=60)
        yield RunningHub(base_url, private_broker.settings.ca_file)
    finally:
        processes.stop_process(pid)


def test_a_backfill_survives_the_broker_being_killed(
    private_broker: RunningBroker, private_hub: RunningHub, postgres_server: PrivatePostgres, tmp_path: Path
) -> None:
    rows = 400_000
    owner = owner_identity(private_broker, private_hub, tmp_path / "identity")
    stream = register_accounts(private_hub, owner)
    url = accounts_database(postgres_server, rows)
    environment = cli_environment(private_hub, owner)
    command = backfill_command(private_broker, stream, url, tmp_path / "w")

    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_checkpoint(tmp_path / "w", int(rows * 0.3), process)
        broker_pid = processes.read_pid(private_broker.broker.pid_file)
        assert broker_pid is not None
        os.kill(broker_pid, signal.SIGKILL)
        time.sleep(2)
        private_broker.broker.up()  # same ports and data folder: the producer reconnects
        output, errors = process.communicate(timeout=600)
    finally:
        process.kill()

    if process.returncode != 0:  # it may also give up during the outage; running it again resumes
        assert "resend" in errors or "unacknowledged" in errors or "not delivered" in errors, errors
        again = run_headwater(command, environment)
        assert again.returncode == 0, again.stdout + again.stderr
        output = again.stdout
    assert f"Published {rows:,} keys of {stream}" in output, output
    certify_through_cli(private_broker, stream, environment)
