"""Every error the API answers is JSON `{"error_code": int, "message": str}`, as Confluent's schema
registry answers them: its clients parse error bodies as JSON, also for unknown routes.

RegistryError                                  (registry/errors.py)
└── CallerUnauthenticatedError                 401, 40101: refused on every request, not only at the handshake
    ├── ClientCertificateMissingError
    ├── ClientCertificateNotValidNowError      expired, or not valid yet, at the time of the request
    ├── ClientCertificateRevokedError
    └── ClientCertificateAnonymousError        the subject names no identity (`ca/identity_rule.py`) or domain
"""

import logging
from collections.abc import Mapping
from datetime import datetime
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from headwater.registry.errors import RegistryError

VALIDATION_ERROR_CODE = 42200
UNEXPECTED_ERROR_CODE = 50000
logger = logging.getLogger(__name__)
_SUMMARISED_VALIDATION_ERRORS = 3


class CallerUnauthenticatedError(RegistryError):
    status_code = 401
    error_code = 40101


class ClientCertificateMissingError(CallerUnauthenticatedError):
    def __init__(self) -> None:
        super().__init__("No client certificate. Connect with a certificate issued by the hub CA.")


class ClientCertificateNotValidNowError(CallerUnauthenticatedError):
    def __init__(self, serial: int, not_before: datetime, not_after: datetime) -> None:
        super().__init__(
            f"Client certificate {serial:x} is valid from {not_before:%Y-%m-%d %H:%M:%S} "
            f"to {not_after:%Y-%m-%d %H:%M:%S} UTC, not now. Renew it with `headwater ca renew <identity>`."
        )


class ClientCertificateRevokedError(CallerUnauthenticatedError):
    def __init__(self, serial: int) -> None:
        super().__init__(
            f"Client certificate {serial:x} was revoked or was not issued by this hub. "
            "Renew it with `headwater ca renew <identity>` unless the identity itself was revoked."
        )


class ClientCertificateAnonymousError(CallerUnauthenticatedError):
    def __init__(self, serial: int) -> None:
        super().__init__(
            f"Client certificate {serial:x} names no identity and domain: its subject needs exactly one "
            "common name (CN), alone in its RDN and a lower-case DNS label, and one OU. "
            "Use a certificate from `headwater ca issue` or `headwater identities issue`."
        )


def install_error_handlers(app: FastAPI) -> None:
    # The decorator form, as `add_exception_handler` types the handler for a bare `Exception`.
    app.exception_handler(RegistryError)(_render_registry_error)
    app.exception_handler(RequestValidationError)(_render_validation_error)
    # Starlette raises HTTPException for unknown routes (404) and wrong methods (405).
    app.exception_handler(HTTPException)(_render_http_error)
    # Anything else is a bug: still a JSON body, so clients parse it like every other error.
    app.exception_handler(Exception)(_render_unexpected_error)


def _error_response(
    status_code: int,
    error_code: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    extras: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body = {"error_code": error_code, "message": message, **(extras or {})}
    return JSONResponse(body, status_code=status_code, headers=headers)


def _render_registry_error(_request: Request, exc: RegistryError) -> JSONResponse:
    return _error_response(exc.status_code, exc.error_code, str(exc), extras=exc.body_extras())


def _render_validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    summary = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
        for error in errors[:_SUMMARISED_VALIDATION_ERRORS]
    )
    more = len(errors) - _SUMMARISED_VALIDATION_ERRORS
    if more > 0:
        summary += f" (and {more} more)"
    return _error_response(HTTPStatus.UNPROCESSABLE_ENTITY, VALIDATION_ERROR_CODE, f"Invalid request: {summary}.")


def _render_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error(
        "unexpected error",
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"method": request.method, "path": request.url.path},
    )
    message = "The hub failed on an unexpected error and logged it; retry, and report it if it persists."
    return _error_response(HTTPStatus.INTERNAL_SERVER_ERROR, UNEXPECTED_ERROR_CODE, message)


def _render_http_error(_request: Request, exc: HTTPException) -> JSONResponse:
    # Confluent's own wording for framework errors: {"error_code": 404, "message": "HTTP 404 Not Found"}.
    return _error_response(exc.status_code, exc.status_code, f"HTTP {exc.status_code} {exc.detail}", exc.headers)
