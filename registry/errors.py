"""Errors raised by the registry.

RegistryError
├── CertificateAuthorityError      the CA folder or its key material is unusable
│   └── CertificateAuthorityMissingError
├── IdentityError
│   ├── IdentityNameInvalidError
│   ├── IdentityNotFoundError
│   ├── IdentityDomainMismatchError
│   ├── IdentityKindMismatchError
│   ├── IdentityRevokedError
│   └── ProtectedIdentityError         platform identities are managed on the hub's machine only
├── CertificateNotFoundError
├── CertificateLifetimeInvalidError    not positive, or not longer than the clock-skew backdating
├── CertificateRequestInvalidError     a CSR that does not parse, verify or carry an accepted key
├── CertificateKeyReusedError          a CSR for a key pair this CA certified before
└── JsonNestingTooDeepError            a request body or schema text nests deeper than the limit

Further branches live beside the code raising them: `api/errors.py` (authentication, what requests may
carry, the database), `schema_registry_errors.py` (Confluent's codes), `governance/errors.py`,
`streams/errors.py`.
"""

from datetime import timedelta
from typing import Any, ClassVar


class RegistryError(Exception):
    """Base of every registry error; the message says what happened and what to do."""

    status_code: ClassVar[int] = 500
    error_code: ClassVar[int] = 50001

    def body_extras(self) -> dict[str, Any]:
        """Fields an API error body carries besides `error_code` and `message`."""
        return {}


class CertificateAuthorityError(RegistryError):
    pass


class CertificateAuthorityMissingError(CertificateAuthorityError):
    def __init__(self, ca_dir: str) -> None:
        super().__init__(f"No certificate authority in {ca_dir}. Create one with `headwater ca init`.")


class IdentityError(RegistryError):
    status_code = 422
    error_code = 42210


class IdentityNameInvalidError(IdentityError):
    def __init__(self, name: str, rule: str) -> None:
        super().__init__(f"Identity name {name!r} is invalid: {rule}.")


class IdentityNotFoundError(IdentityError):
    status_code = 404
    error_code = 40410

    def __init__(self, name: str) -> None:
        super().__init__(f"Identity {name!r} does not exist. Issue it first with `headwater ca issue {name}`.")


class IdentityDomainMismatchError(IdentityError):
    status_code = 409
    error_code = 40910

    def __init__(self, name: str, existing_domain: str, requested_domain: str) -> None:
        super().__init__(
            f"Identity {name!r} belongs to domain {existing_domain!r}, not {requested_domain!r}. "
            "Pick another name or issue it in its own domain."
        )


class IdentityKindMismatchError(IdentityError):
    status_code = 409
    error_code = 40911

    def __init__(self, name: str, existing_kind: str, requested_kind: str) -> None:
        super().__init__(
            f"Identity {name!r} holds {existing_kind} certificates, not {requested_kind} ones. "
            "Issue the other kind under another name."
        )


class IdentityRevokedError(IdentityError):
    status_code = 403
    error_code = 40310

    def __init__(self, name: str) -> None:
        super().__init__(
            f"Identity {name!r} was revoked; it cannot be issued or renewed again. "
            "Create a new identity under another name."
        )


class CertificateNotFoundError(RegistryError):
    status_code = 404
    error_code = 40411

    def __init__(self, serial: str) -> None:
        super().__init__(
            f"No certificate with serial {serial} was issued by this CA. List them with `headwater ca list`."
        )


class ProtectedIdentityError(IdentityError):
    status_code = 403
    error_code = 40341

    def __init__(self, name: str, domain: str) -> None:
        super().__init__(
            f"Identity {name!r} (domain {domain!r}) is a platform identity: it is issued, renewed and revoked "
            "only by the hub admin on the hub's machine (`headwater ca issue|renew|revoke`), never through the API."
        )


class CertificateLifetimeInvalidError(RegistryError):
    status_code = 422
    error_code = 42212

    def __init__(self, lifetime: timedelta, backdating: timedelta) -> None:
        hours = lifetime.total_seconds() / 3600
        if hours <= 0:
            super().__init__(
                f"A certificate lifetime of {hours:g} hours is not positive. Give a positive --lifetime-hours."
            )
            return
        super().__init__(
            f"A certificate lifetime of {hours:g} hours is too short: certificates start "
            f"{backdating.total_seconds() / 60:g} minutes in the past (clock skew), so the lifetime must be "
            f"longer than {backdating.total_seconds() / 3600:.4g} hours. Give a longer --lifetime-hours."
        )


class CertificateRequestInvalidError(RegistryError):
    status_code = 422
    error_code = 42211

    def __init__(self, problem: str) -> None:
        super().__init__(
            f"The certificate signing request is refused: {problem}. Send the PEM CSR of a new key pair, "
            "e.g. `openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=<identity>`; "
            "the CLI and the SDK make one for you."
        )


class JsonNestingTooDeepError(RegistryError):
    status_code = 422
    error_code = 42250

    def __init__(self, where: str, limit: int) -> None:
        super().__init__(
            f"{where[:1].upper()}{where[1:]} nests JSON arrays and objects deeper than {limit} levels, the hub's "
            "limit. Send a flatter document."
        )


class CertificateKeyReusedError(RegistryError):
    status_code = 409
    error_code = 40912

    def __init__(self) -> None:
        super().__init__(
            "The certificate signing request is for a key pair this CA certified before. "
            "Generate a new key pair for every renewal, so that an old key, once leaked, stays useless."
        )
