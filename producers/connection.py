"""How a client reaches the broker and the hub: addresses plus the identity's certificate files (mTLS)."""

import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

# librdkafka logs every refused connection to stderr; route its log into Python logging instead.
# Without a handler, Python's last-resort handler would print its warnings (such as a transient
# "coordinator load in progress") to stderr; applications that configure logging still see them.
_librdkafka_logger = logging.getLogger("headwater.librdkafka")
_librdkafka_logger.addHandler(logging.NullHandler())


@dataclass(frozen=True)
class MtlsConnection:
    bootstrap_servers: str
    ca_file: Path
    certificate_file: Path
    key_file: Path

    def client_config(self, **overrides: object) -> dict[str, object]:
        """Configuration for any confluent-kafka client (Producer, Consumer, AdminClient)."""
        config: dict[str, object] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": "SSL",
            "ssl.ca.location": str(self.ca_file),
            "ssl.certificate.location": str(self.certificate_file),
            "ssl.key.location": str(self.key_file),
            # The broker binds 127.0.0.1 only; without this `localhost` may be tried as ::1 first.
            "broker.address.family": "v4",
            "logger": _librdkafka_logger,
        }
        config.update(overrides)
        return config


def client_ssl_context(ca_file: Path, certificate_file: Path, key_file: Path) -> ssl.SSLContext:
    """A client context for the hub: trusts only the hub CA and presents an identity's certificate."""
    context = ssl.create_default_context(cafile=str(ca_file))
    context.load_cert_chain(str(certificate_file), str(key_file))
    return context


@dataclass(frozen=True)
class HubConnection:
    url: str
    ca_file: Path
    certificate_file: Path
    key_file: Path

    def ssl_context(self) -> ssl.SSLContext:
        return client_ssl_context(self.ca_file, self.certificate_file, self.key_file)
