"""The `headwater` command line, run as a user runs it: a subprocess, its output and exit code."""

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from headwater.producers.connection import client_ssl_context

HEADWATER = str(Path(sys.executable).parent / "headwater")


def run(
    *arguments: str, state_dir: Path, env: dict[str, str] | None = None, timeout_s: float = 300
) -> subprocess.CompletedProcess[str]:
    # Ephemeral ports everywhere, so tests never collide with each other or with `make demo`.
    environment = {**os.environ, "COLUMNS": "200", "HEADWATER_HUB_PORT": "0", **(env or {})}
    return subprocess.run(
        [HEADWATER, "--state-dir", str(state_dir), *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout_s,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 1, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]


def _started_seconds(output: str) -> float:
    match = re.search(r"Broker started in ([0-9.]+) s", output)
    assert match, output
    return float(match.group(1))


def test_local_up_status_rotate_and_down(tmp_path: Path) -> None:
    state = tmp_path / "state"
    up = run("local", "up", "--kafka-port", "0", "--controller-port", "0", state_dir=state)
    try:
        assert up.returncode == 0, up.stderr
        seconds = _started_seconds(up.stdout)
        print(f"warm-cache `headwater local up`: broker answered in {seconds:.1f} s")
        assert seconds < 30
        bootstrap = re.search(r"bootstrap\s+(localhost:\d+)", up.stdout)
        assert bootstrap, up.stdout

        sourced = (
            subprocess.run(
                [
                    "bash",
                    "-c",
                    f"set -a; . {state / 'local.env'}; "
                    'echo "$HEADWATER_BOOTSTRAP_SERVERS|$HEADWATER_HUB_URL|$HEADWATER_CA_FILE|'
                    '$HEADWATER_ADMIN_CERT_FILE|$HEADWATER_ADMIN_KEY_FILE"',
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .split("|")
        )
        assert sourced[0] == bootstrap.group(1)
        assert all(Path(path).is_file() for path in sourced[2:])
        health = httpx.get(
            f"{sourced[1]}/api/v1/health", verify=client_ssl_context(*(Path(path) for path in sourced[2:])), timeout=10
        )
        assert health.status_code == 200 and health.json()["checks"] == {"database": True, "broker": True}

        again = run("local", "up", state_dir=state)
        assert again.returncode == 0 and "already running" in again.stdout
        kept_port = bootstrap.group(1).rsplit(":", 1)[1]
        other_port = str(int(kept_port) + 1)
        assert_one_line_error(
            run("local", "up", "--kafka-port", other_port, state_dir=state),
            f"was formatted for kafka port {kept_port}, not {other_port}",
            "headwater local down --purge",
        )

        status = run("local", "status", state_dir=state)
        assert status.returncode == 0 and re.search(r"answering\s+yes", status.stdout), status.stdout
        assert re.search(r"hub healthy\s+yes", status.stdout), status.stdout

        rotated = run("local", "rotate-certificate", state_dir=state)
        assert rotated.returncode == 0 and "Broker certificate rotated: serial" in rotated.stdout, rotated.stderr
    finally:
        down = run("local", "down", state_dir=state)
    assert down.returncode == 0 and "Stopped the hub" in down.stdout and "Stopped the broker" in down.stdout
    stopped = run("local", "status", state_dir=state)
    assert stopped.returncode == 3 and re.search(r"answering\s+no", stopped.stdout)
    assert_one_line_error(
        run("local", "rotate-certificate", state_dir=state), "No broker runs in", "headwater local up"
    )


def test_demo_produces_and_reads_back_over_mtls(tmp_path: Path) -> None:
    state = tmp_path / "state"
    try:
        result = run("demo", state_dir=state, env={"HEADWATER_KAFKA_PORT": "0", "HEADWATER_CONTROLLER_PORT": "0"})
        assert result.returncode == 0, result.stderr
        for key in ("alice", "bob", "carol", "dave", "erin"):  # SDK records, then the backfill's
            assert re.search(rf"{key}\s+.\s+hello {key}", result.stdout), result.stdout
        assert (
            "Backfilled 5 keys from SQLite (manifest 1); the hub certified demo.greetings: CERTIFIED" in result.stdout
        )
        assert "refused by the broker (TOPIC_AUTHORIZATION_FAILED)" in result.stdout
        listed = run("streams", "list", state_dir=state)
        assert listed.returncode == 0 and "demo.greetings" in listed.stdout, listed.stderr
        again = run("demo", state_dir=state, env={"HEADWATER_KAFKA_PORT": "0", "HEADWATER_CONTROLLER_PORT": "0"})
        assert again.returncode == 0, again.stderr  # the registration from the first run is reused
        assert "(manifest 2); the hub certified demo.greetings: CERTIFIED" in again.stdout
    finally:
        run("local", "down", state_dir=state)


def _java_home() -> str:
    java = shutil.which("java")
    assert java is not None
    return str(Path(java).resolve().parents[1])


def test_missing_java_is_a_one_line_error(tmp_path: Path) -> None:
    environment = {"PATH": str(Path(sys.executable).parent), "JAVA_HOME": str(tmp_path / "no-such-jdk")}
    result = run("local", "up", state_dir=tmp_path / "state", env=environment)
    assert_one_line_error(result, "Java 17+ was not found", "apt-get install -y openjdk-17-jre-headless")


def test_missing_maven_on_a_cold_cache_is_a_one_line_error(tmp_path: Path) -> None:
    environment = {
        "PATH": str(Path(sys.executable).parent),
        "JAVA_HOME": _java_home(),
        "HEADWATER_CACHE_DIR": str(tmp_path / "empty-cache"),
    }
    result = run("local", "up", state_dir=tmp_path / "state", env=environment)
    assert_one_line_error(result, "Maven (`mvn`)", "apt-get install -y maven")


def test_local_up_from_a_cold_cache_fetches_kafka_and_starts(tmp_path: Path) -> None:
    """Empty jar cache and empty local Maven repository: everything comes from Maven Central."""
    state = tmp_path / "state"
    environment = {
        "HEADWATER_CACHE_DIR": str(tmp_path / "cache"),
        "MAVEN_OPTS": f"-Dmaven.repo.local={tmp_path / 'm2'}",
    }
    try:
        up = run(
            "local",
            "up",
            "--kafka-port",
            "0",
            "--controller-port",
            "0",
            state_dir=state,
            env=environment,
            timeout_s=600,
        )
        assert up.returncode == 0, up.stderr
        assert "Fetching Kafka 4.4.0 jars from Maven Central" in up.stdout
        print(f"cold-cache `headwater local up`: {_started_seconds(up.stdout):.1f} s including the Maven fetch")
        assert re.search(r"answering\s+yes", up.stdout)
        jars = list((tmp_path / "cache" / "kafka-4.4.0" / "lib").glob("*.jar"))
        assert any(jar.name.startswith("kafka_2.13-4.4.0") for jar in jars)
        assert len([jar for jar in jars if jar.name.startswith("log4j-slf4j")]) == 1
    finally:
        run("local", "down", state_dir=state, env=environment)


def test_ca_commands_issue_renew_revoke_and_list(tmp_path: Path) -> None:
    state, out = tmp_path / "state", tmp_path / "out"
    assert_one_line_error(
        run("ca", "issue", "orders-svc", "--domain", "orders", "--out", str(out), state_dir=state), "headwater ca init"
    )
    assert run("ca", "init", state_dir=state).returncode == 0
    assert_one_line_error(run("ca", "init", state_dir=state), "already exists")

    issued = run(
        "ca", "issue", "orders-svc", "--domain", "orders", "--out", str(out), "--lifetime-hours", "2", state_dir=state
    )
    assert issued.returncode == 0, issued.stderr
    assert "PRIVATE KEY" not in issued.stdout + issued.stderr
    assert stat.S_IMODE((out / "orders-svc.key").stat().st_mode) == 0o600
    assert (out / "orders-svc.key").read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert (out / "orders-svc.crt").read_text().startswith("-----BEGIN CERTIFICATE-----")

    assert_one_line_error(
        run("ca", "issue", "orders-svc", "--domain", "payments", "--out", str(out), state_dir=state),
        "belongs to domain 'orders', not 'payments'",
    )
    assert_one_line_error(
        run("ca", "issue", "Orders_Svc", "--domain", "orders", "--out", str(out), state_dir=state),
        "Identity name 'Orders_Svc' is invalid",
    )

    renewed = run("ca", "renew", "orders-svc", "--out", str(out), state_dir=state)
    assert renewed.returncode == 0 and "Issued orders-svc" in renewed.stdout
    listed = run("ca", "list", state_dir=state)
    assert listed.returncode == 0 and len(re.findall(r"orders-svc .*valid", listed.stdout)) == 2, listed.stdout

    assert_one_line_error(
        run("ca", "revoke", "--serial", "abc123", state_dir=state), "No certificate with serial abc123"
    )
    assert run("ca", "revoke", state_dir=state).returncode == 2
    revoked = run("ca", "revoke", "orders-svc", state_dir=state)
    assert revoked.returncode == 0 and "Revoked identity orders-svc and 2 certificate(s)" in revoked.stdout
    assert_one_line_error(run("ca", "renew", "orders-svc", "--out", str(out), state_dir=state), "was revoked")
    assert len(re.findall(r"orders-svc .*revoked", run("ca", "list", state_dir=state).stdout)) == 2


@pytest.mark.parametrize(
    ("hours", "problem"), [("0.05", "too short"), ("0", "not positive"), ("-1", "not positive")]
)
def test_a_lifetime_that_would_issue_an_expired_certificate_is_a_one_line_error(
    tmp_path: Path, hours: str, problem: str
) -> None:
    """Issue 13: 0.05 h printed a certificate that was already expired (it starts 5 minutes back), -1 a traceback."""
    state, out = tmp_path / "state", tmp_path / "out"
    assert run("ca", "init", state_dir=state).returncode == 0
    for command in (["issue", "orders-svc", "--domain", "orders"], ["renew", "orders-svc"]):
        if command[0] == "renew":
            assert run("ca", "issue", "orders-svc", "--domain", "orders", "--out", str(out), state_dir=state).returncode == 0
        result = run("ca", *command, "--out", str(tmp_path / "short"), "--lifetime-hours", hours, state_dir=state)
        assert_one_line_error(result, problem)
        assert "--lifetime-hours" in result.stderr
        assert not (tmp_path / "short").exists()


@pytest.mark.parametrize("command", [["local", "--help"], ["ca", "--help"], ["--help"]])
def test_help_lists_the_commands(command: list[str], tmp_path: Path) -> None:
    result = run(*command, state_dir=tmp_path)
    assert result.returncode == 0 and "Usage" in result.stdout
