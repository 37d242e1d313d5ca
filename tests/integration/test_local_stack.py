"""`LocalStack`: the broker and the hub of one state folder, started, checked and stopped together."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest

from headwater.ledger import open_ledger
from headwater.local import hub as hub_server
from headwater.local.broker_tls import served_certificate
from headwater.local.stack import LocalStack
from headwater.registry.ca import CertificateKind
from tests.conftest import broker_settings


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    local_stack = LocalStack(broker_settings(tmp_path / "state").model_copy(update={"hub_port": 0}))
    try:
        yield local_stack
    finally:
        local_stack.down()


def test_up_is_idempotent_and_down_stops_both(stack: LocalStack) -> None:
    first = stack.up()
    again = stack.up()
    assert first.hub_healthy and again.hub_healthy and again.hub_pid == first.hub_pid
    assert again.broker.pid == first.broker.pid and not again.broker.started_now
    assert f"HEADWATER_HUB_URL={first.hub_url}" in stack.env_file.read_text()

    assert stack.down() == f"Stopped the hub (pid {first.hub_pid}). Stopped the broker (pid {first.broker.pid})."
    stopped = stack.status()
    assert stopped.hub_pid is None and not stopped.hub_healthy and not stopped.broker.answering


def test_up_restarts_the_hub_when_its_certificate_nears_expiry(stack: LocalStack) -> None:
    first = stack.up()
    assert first.hub_url is not None
    ledger = open_ledger(stack.settings)
    nearly_expired = ledger.issue(
        hub_server.HUB_IDENTITY,
        stack.settings.platform_domain,
        CertificateKind.SERVER,
        timedelta(hours=1),
        datetime.now(UTC) - timedelta(minutes=55),
    )
    nearly_expired.write(stack.broker.identities_dir)

    steps: list[str] = []
    renewed = stack.up(steps.append)

    assert "Restarting the hub: its server certificate nears expiry" in steps
    assert renewed.hub_healthy and renewed.hub_pid != first.hub_pid
    served = served_certificate(urlparse(renewed.hub_url or "").port or 0, stack.broker.admin_connection())
    assert served.serial_number != nearly_expired.serial
    assert served.not_valid_after_utc - datetime.now(UTC) > timedelta(days=1)
