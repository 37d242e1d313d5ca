"""Small helpers that drive real confluent-kafka clients in tests and report what the broker said."""

import socket
import ssl
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, Producer

from headwater.producers.connection import MtlsConnection
from headwater.registry.ca import CertificateAuthority, CertificateKind, CertificateRequest


@dataclass
class ProduceOutcome:
    delivery_error: KafkaError | None
    client_errors: list[KafkaError] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return self.delivery_error is None


def produce_one(
    connection: MtlsConnection, topic: str, key: bytes = b"k", value: bytes = b"v", timeout_s: float = 10.0
) -> ProduceOutcome:
    client_errors: list[KafkaError] = []
    producer = Producer(
        connection.client_config(
            **{
                "message.timeout.ms": int(timeout_s * 1000),
                "enable.idempotence": True,
                "acks": "all",
                "error_cb": client_errors.append,
            }
        )
    )
    results: list[KafkaError | None] = []
    producer.produce(topic, key=key, value=value, on_delivery=lambda error, _message: results.append(error))
    producer.flush(timeout_s + 5)
    assert results, "no delivery report"
    return ProduceOutcome(results[0], client_errors)


def read_values(connection: MtlsConnection, topic: str, group: str, count: int, timeout_s: float = 30.0) -> list[bytes]:
    consumer = Consumer(
        connection.client_config(**{"group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False})
    )
    consumer.subscribe([topic])
    values: list[bytes] = []
    try:
        for _ in range(int(timeout_s)):
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error():
                raise AssertionError(f"consumer error: {message.error()}")
            values.append(message.value())
            if len(values) >= count:
                break
    finally:
        consumer.close()
    return values


def tls_refusal(port: int, connection: MtlsConnection | None, ca_file: str) -> str:
    """Complete a TLS handshake with the broker and read: returns the alert the broker answers with.

    In TLS 1.3 the server checks the client certificate after the client considers the handshake done,
    so the refusal arrives as an alert on the first read."""
    context = ssl.create_default_context(cafile=ca_file)
    if connection is not None:
        context.load_cert_chain(str(connection.certificate_file), str(connection.key_file))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        try:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(b"\x00\x00\x00\x00")
                data = tls.recv(1)
        except ssl.SSLError as exc:
            return exc.reason or str(exc)
    raise AssertionError(f"the broker accepted the TLS session (read {data!r})")


def foreign_ca_impostor(folder: Path, identity: str) -> tuple[Path, Path]:
    """Certificate and key naming `identity`, signed by a CA nobody trusts: only the signature differs."""
    foreign = CertificateAuthority.create(folder / "foreign-ca", trust_domain="elsewhere.example")
    impostor = foreign.sign(CertificateRequest(identity, "platform", CertificateKind.CLIENT, timedelta(hours=1)))
    return impostor.write(folder / "impostor")
