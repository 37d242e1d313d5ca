"""Renew the producing identity's certificate through the hub before it expires, in place.

A long backfill or an always-on service outlives a certificate (24 h by default). Once two thirds of
the lifetime have passed, `CertificateRenewal.renew` makes a new key pair here, sends the hub a
certificate signing request for it (`POST /api/v1/identities/{name}/renew`, allowed to the identity
itself; the private key never leaves this process) and writes key and certificate over the configured
files; the producer then flushes and reconnects with them (see `StreamProducer`). The hub revokes the
replaced certificate after a grace period (`renewal_grace_s`, 2 minutes by default).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.x509.oid import NameOID

from headwater.producers.connection import HubConnection
from headwater.producers.hub import open_hub
from headwater.producers.identity_files import write_certificate_files
from headwater.registry.ca.authority import new_signing_request
from headwater.registry.errors import RegistryError

logger = logging.getLogger(__name__)

RENEW_AFTER_FRACTION: Final = 2 / 3
"""Renew once this much of the certificate's lifetime has passed."""
RETRY_AFTER_S: Final = 10.0


class CertificateRenewal:
    def __init__(self, hub: HubConnection) -> None:
        self._hub = hub
        self.renewals = 0
        self._renew_at = _renewal_time(hub.certificate_file)

    def due(self) -> bool:
        return time.time() >= self._renew_at

    def renew(self) -> bool:
        """Replace the certificate and key files with a renewed pair; False (and a retry later) if the
        hub could not renew, so producing goes on with the current certificate while it is valid."""
        identity = certificate_identity(self._hub.certificate_file)
        csr_pem, private_key_pem = new_signing_request(identity)
        try:
            with open_hub(self._hub) as hub:
                issued = hub.post(f"/identities/{identity}/renew", {"csr_pem": csr_pem.decode()})
        except RegistryError as error:
            logger.warning(
                "Renewing the certificate of %s failed (%s); retrying in %.0f s", identity, error, RETRY_AFTER_S
            )
            self._renew_at = time.time() + RETRY_AFTER_S
            return False
        write_certificate_files(
            issued["certificate_pem"], private_key_pem, self._hub.certificate_file, self._hub.key_file
        )
        self.renewals += 1
        self._renew_at = _renewal_time(self._hub.certificate_file)
        logger.info(
            "Renewed the certificate of %s (serial %s, valid until %s)", identity, issued["serial"], issued["not_after"]
        )
        return True


def _certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def certificate_serial(path: Path) -> int:
    return int(_certificate(path).serial_number)


def _renewal_time(path: Path) -> float:
    certificate = _certificate(path)
    start: datetime = certificate.not_valid_before_utc
    end: datetime = certificate.not_valid_after_utc
    return start.timestamp() + (end - start).total_seconds() * RENEW_AFTER_FRACTION


def certificate_identity(path: Path) -> str:
    """The identity (common name) a certificate file names."""
    names = _certificate(path).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value)
