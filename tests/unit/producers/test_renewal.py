"""When renewal falls due, and what happens when the hub cannot renew (producing goes on, a retry later)."""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from headwater.local.processes import free_port
from headwater.producers.connection import HubConnection
from headwater.producers.renewal import RETRY_AFTER_S, CertificateRenewal


def _certificate(folder: Path, not_before: datetime, lifetime: timedelta) -> HubConnection:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "orders-svc")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + lifetime)
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = folder / "orders-svc.crt", folder / "orders-svc.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return HubConnection(f"https://127.0.0.1:{free_port()}", certificate_file, certificate_file, key_file)


def test_renewal_falls_due_after_two_thirds_of_the_lifetime(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    assert not CertificateRenewal(_certificate(tmp_path, now - timedelta(hours=15), timedelta(hours=24))).due()
    assert CertificateRenewal(_certificate(tmp_path, now - timedelta(hours=17), timedelta(hours=24))).due()


def test_an_unreachable_hub_leaves_the_files_and_retries_later(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hub = _certificate(tmp_path, datetime.now(UTC) - timedelta(hours=20), timedelta(hours=24))
    before = hub.certificate_file.read_bytes()
    renewal = CertificateRenewal(hub)
    assert renewal.due()

    started = time.time()
    assert renewal.renew() is False

    assert hub.certificate_file.read_bytes() == before and renewal.renewals == 0
    assert not renewal.due()  # not before the retry delay
    assert "Renewing the certificate of orders-svc failed" in caplog.text
    assert f"retrying in {RETRY_AFTER_S:.0f} s" in caplog.text
    assert time.time() - started < RETRY_AFTER_S
