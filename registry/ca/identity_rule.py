"""The one rule that reads an identity out of a certificate subject, for the hub and the broker alike.

A subject names an identity only if exactly one of its RDNs holds a common name, that RDN holds
nothing else (no `CN=a+O=b`, no `CN=a+CN=b`), and the value is a lower-case DNS label (so no commas,
escapes, NUL or upper case can ever appear in a Kafka principal). Anything else names no identity and
is refused. The broker applies the same rule in Java (`headwater/local/broker_plugins/`); tests check
both with crafted certificates signed by the hub CA.
"""

import re

from cryptography import x509
from cryptography.x509.oid import NameOID

IDENTITY_NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
"""DNS-label shaped names: they appear verbatim in subjects, Kafka principals and SPIFFE URIs."""


def identity_of_subject(subject: x509.Name) -> str | None:
    """The identity `subject` names, or None when it names none under the rule above."""
    common_name_rdns = [rdn for rdn in subject.rdns if rdn.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if len(common_name_rdns) != 1:
        return None
    (rdn,) = common_name_rdns
    if len(rdn) != 1:
        return None
    (attribute,) = rdn
    value = attribute.value
    if not isinstance(value, str) or IDENTITY_NAME_PATTERN.fullmatch(value) is None:
        return None
    return value
