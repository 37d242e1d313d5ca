"""The broker's Java identity rule (`IdentityRule.identityOf`, used by its principal builder) agrees
with the hub's Python one (`registry/ca/identity_rule.py`) on issued, crafted and random subjects.

The Python rule is the oracle. Both sides read the same DER certificates the way they read a peer's
certificate: the hub with `cryptography` (a certificate it cannot parse names no identity: the hub
refuses it), the broker with Java's CertificateFactory, in one JVM (`tests/java/IdentityRuleProbe.java`,
launched from source on the compiled broker plugins; a certificate Java cannot read fails the TLS
handshake, so it names no identity either).
"""

import random
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from headwater.local.broker_plugins import ensure_broker_plugins
from headwater.local.java import find_java
from headwater.local.kafka_jars import ensure_kafka_jars
from headwater.registry.ca.identity_rule import identity_of_subject
from tests.conftest import broker_settings
from tests.crafted_certificates import CRAFTED_SUBJECTS

PROBE = Path(__file__).parents[1] / "java" / "IdentityRuleProbe.java"
RANDOM_SUBJECTS = 400
ISSUED = ["a", "0", "orders-svc", "headwater-admin", "a" * 63]
SMUGGLED = b"orders-svc".decode("utf-16-be")
"""Five CJK characters whose UTF-16 code units are the bytes of `orders-svc`: as a BMPString, a reader
that takes the bytes for UTF-8 (Java's RFC 2253 form does) sees `orders-svc`."""

# Values around the rule's edges: separators and escapes of RFC 4514/2253, NUL, case, length, Unicode.
VALUES = [
    *ISSUED,
    "a" * 64,
    "A",
    "Orders-svc",
    "-a",
    "a-",
    "a,b",
    "a+b",
    "a=b",
    "a;b",
    "a\\b",
    '"a"',
    "#a",
    " a",
    "a ",
    "a\x00",
    "a\nb",
    "é",
    "\u200ba",
    "a_b",
    "x,CN=headwater-admin",
    "x+CN=headwater-admin",
    SMUGGLED,
]
ATTRIBUTE_TYPES = [NameOID.COMMON_NAME] * 3 + [NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME]
VALUE_TYPES = [value_type for value_type in _ASN1Type if value_type is not _ASN1Type.BitString]
"""Every type `cryptography` writes a common name as, including some it refuses to read back."""


def _common_name_subject(value: str, value_type: _ASN1Type = _ASN1Type.UTF8String) -> x509.Name:
    """As the hub CA writes subjects (`CertificateAuthority.certify`), with a chosen value and type."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "headwater"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "platform"),
            x509.NameAttribute(NameOID.COMMON_NAME, value, value_type),
        ]
    )


def _random_subject(generator: random.Random) -> x509.Name:
    rdns = []
    for _ in range(generator.randint(1, 4)):
        attributes = {
            x509.NameAttribute(
                generator.choice(ATTRIBUTE_TYPES),
                # Half of them valid names, so that random subjects also name identities.
                generator.choice(ISSUED if generator.random() < 0.5 else VALUES),
                generator.choice([_ASN1Type.UTF8String, _ASN1Type.UTF8String, *VALUE_TYPES]),
            )
            for _ in range(generator.choice([1, 1, 1, 2]))
        }
        rdns.append(x509.RelativeDistinguishedName(attributes))
    return x509.Name(rdns)


class CertificateMaker:
    """Certificates for given subjects, all signed by one throwaway key (neither side checks it here).

    `cryptography` refuses to write some values in some types (`a_b` as a PrintableString): `der`
    raises ValueError for those."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._now = datetime.now(UTC)

    def der(self, subject: x509.Name) -> bytes:
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "probe")]))
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._now)
            .not_valid_after(self._now + timedelta(hours=1))
            .sign(self._key, hashes.SHA256())
        )
        return certificate.public_bytes(serialization.Encoding.DER)


def _set_out_of_der_order(maker: CertificateMaker) -> bytes:
    """`CN=orders-svc,OU=a+O=b,...` with the two-valued RDN's SET swapped out of DER order (a CA
    that signs such DER is broken; the hub's parser refuses it)."""
    two_valued = x509.RelativeDistinguishedName(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "b"), x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "a")]
    )
    common_name = x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "orders-svc")])
    der = maker.der(x509.Name([two_valued, common_name]))
    organization, unit = (
        bytes.fromhex("3008060355040a0c0162"),  # O=b
        bytes.fromhex("3008060355040b0c0161"),  # OU=a
    )
    assert der.count(organization + unit) == 1
    return der.replace(organization + unit, unit + organization)


def _hub_identity(der: bytes) -> str | None:
    try:
        subject = x509.load_der_x509_certificate(der).subject
    except ValueError:
        return None
    return identity_of_subject(subject)


def _broker_identities(certificates: list[bytes], tmp_path: Path) -> list[str | None]:
    settings = broker_settings(tmp_path)
    lib_dir = ensure_kafka_jars(settings.cache_dir, settings.kafka_version)
    classes = ensure_broker_plugins(settings.cache_dir, settings.kafka_version, lib_dir)
    probe = subprocess.run(
        [str(find_java()), "-cp", f"{lib_dir}/*:{classes}", str(PROBE)],
        input="".join(der.hex() + "\n" for der in certificates),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    answers = probe.stdout.splitlines()
    assert len(answers) == len(certificates), probe.stderr[-3000:]
    return [None if answer == "-" or answer.startswith("!") else answer for answer in answers]


@pytest.fixture(scope="module")
def certificates() -> dict[str, bytes]:
    maker = CertificateMaker()
    generator = random.Random(20261204)
    cases = {f"issued {identity}": maker.der(_common_name_subject(identity)) for identity in ISSUED}
    cases |= {f"crafted {case}": maker.der(subject) for case, subject in CRAFTED_SUBJECTS.items()}
    for kind in VALUE_TYPES:
        try:
            cases[f"type {kind.name}"] = maker.der(_common_name_subject("orders-svc", kind))
        except ValueError:
            continue  # NumericString cannot hold letters
    cases["smuggled BMPString"] = maker.der(_common_name_subject(SMUGGLED, _ASN1Type.BMPString))
    cases["SET out of DER order"] = _set_out_of_der_order(maker)
    count = len(cases)
    while len(cases) < count + RANDOM_SUBJECTS:
        try:
            cases[f"random {len(cases) - count}"] = maker.der(_random_subject(generator))
        except ValueError:
            continue
    return cases


def test_broker_and_hub_read_the_same_identity_from_every_certificate(
    certificates: dict[str, bytes], tmp_path: Path
) -> None:
    hub = {case: _hub_identity(der) for case, der in certificates.items()}

    broker = dict(zip(certificates, _broker_identities(list(certificates.values()), tmp_path), strict=True))

    assert {case: (hub[case], broker[case]) for case in certificates if hub[case] != broker[case]} == {}
    # The oracle's answers, so the comparison above means something:
    assert [hub[f"issued {identity}"] for identity in ISSUED] == ISSUED
    assert all(hub[f"crafted {case}"] is None for case in CRAFTED_SUBJECTS)
    assert hub["smuggled BMPString"] is None and hub["SET out of DER order"] is None
    assert hub["type UTF8String"] == hub["type BMPString"] == hub["type PrintableString"] == "orders-svc"
    assert sum(hub[f"random {index}"] is not None for index in range(RANDOM_SUBJECTS)) >= 40
