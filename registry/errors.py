"""Errors raised by the registry.

RegistryError
├── CertificateAuthorityError      the CA folder or its key material is unusable
│   └── CertificateAuthorityMissingError
├── IdentityError
│   ├── IdentityNameInvalidError
│   ├── IdentityNotFoundError
│   ├── IdentityDomainMismatchError
│   ├── IdentityKindMismatchError
│   └── IdentityRevokedError
└── CertificateNotFoundError
"""

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
