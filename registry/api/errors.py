"""Every error the API answers is JSON `{"error_code": int, "message": str}`, as Confluent's schema
registry answers them: its clients parse error bodies as JSON, also for unknown routes.

RegistryError                                  (registry/errors.py)
├── CallerUnauthenticatedError                 401, 40101: refused on every request, not only at the handshake
│   ├── ClientCertificateMissingError
│   ├── ClientCertificateNotValidNowError      expired, or not valid yet, at the time of the request
│   ├── ClientCertificateRevokedError
│   └── ClientCertificateAnonymousError        the subject names no identity (`ca/identity_rule.py`) or domain
├── RequestBodyNotTextError                    422, 42200: bytes no JSON decoder reads (a request of the wrong shape)
├── RequestBodyTooLargeError                   413, 41301: by its Content-Length, or once read that far
├── TextCharacterRefusedError                  422, 42252: NUL, a lone surrogate or a control character
├── NumberOutOfRangeError                      422, 42253: a body integer beyond 64 bits, or NaN or infinity
└── DatabaseUnavailableError                   503, 50301: the database does not answer (a fault, not the caller's)

Besides these: 42200 for a request that does not match the documented shape (FastAPI's validation),
the status code itself for unknown routes and methods (Confluent's format), 50000 for a bug.
"""

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException
from starlette.types import Scope

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


class RequestBodyNotTextError(RegistryError):
    """Refused where FastAPI would answer a bare 400 ("There was an error parsing the body")."""

    status_code = 422
    error_code = VALIDATION_ERROR_CODE

    def __init__(self) -> None:
        super().__init__("Invalid request: the body is not text in UTF-8 (or UTF-16 or UTF-32). Send JSON in UTF-8.")


class RequestBodyTooLargeError(RegistryError):
    status_code = 413
    error_code = 41301

    def __init__(self, limit_bytes: int, setting: str) -> None:
        super().__init__(
            f"The request body is larger than {limit_bytes} bytes, the hub's limit "
            f"({setting}); it was not read. Send less per request."
        )


class TextCharacterRefusedError(RegistryError):
    """What no stored text may hold: PostgreSQL refuses U+0000, UTF-8 cannot encode a lone surrogate,
    and control characters (tab and line breaks aside) only hide or garble text where it is shown."""

    status_code = 422
    error_code = 42252

    def __init__(self, found: str, where: str) -> None:
        super().__init__(
            f"{found[:1].upper()}{found[1:]} is not accepted in {where}; tab and line breaks are the only control "
            "characters allowed. Remove it and send the request again."
        )


class NumberOutOfRangeError(RegistryError):
    status_code = 422
    error_code = 42253

    def __init__(self, literal: str) -> None:
        shown = literal if len(literal) <= 40 else f"{literal[:40]}..."
        super().__init__(
            f"The number {shown} in the request body is out of range: integers must fit in 64-bit signed "
            "integers and numbers must be finite (NaN and Infinity are not JSON)."
        )


class DatabaseUnavailableError(RegistryError):
    status_code = 503
    error_code = 50301

    def __init__(self) -> None:
        super().__init__(
            "The hub's database does not answer, so nothing was read or changed. Retry shortly; if it persists, "
            "the hub operator should check the database server (HEADWATER_DATABASE_URL) and the hub's log."
        )


DATABASE_UNAVAILABLE = (OperationalError, DisconnectionError, PoolTimeoutError)
"""What SQLAlchemy raises when the database is down, unreachable or too busy to take a connection."""


def install_error_handlers(app: FastAPI) -> None:
    # The decorator form, as `add_exception_handler` types the handler for a bare `Exception`.
    app.exception_handler(RegistryError)(_render_registry_error)
    for database_error in DATABASE_UNAVAILABLE:
        app.exception_handler(database_error)(_render_database_unavailable)
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
    return _ErrorJSONResponse(body, status_code=status_code, headers=headers)


class _ErrorJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        # A message quoting the caller's input could hold a lone surrogate, which UTF-8 cannot encode:
        # the answer would fail after the refusal was decided. It goes out as the JSON escape `\ud800`.
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8", "backslashreplace")


def declared_body_length(scope: Scope) -> int | None:
    """The request's Content-Length, or None without one (a chunked body, or none). h11 (under uvicorn)
    already refused a malformed or repeated Content-Length with a 400."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return None


def has_body(scope: Scope) -> bool:
    """Whether the request announces a body (a refusal sent before reading it closes the connection)."""
    declared = declared_body_length(scope)
    if declared is not None:
        return declared > 0
    return any(name == b"transfer-encoding" for name, _ in scope["headers"])


def error_response(exc: RegistryError, close_connection: bool = False) -> JSONResponse:
    """The answer to `exc`; `close_connection` for a refusal sent before the request body was read, so
    the client is not left sending a body nobody reads on a connection meant to carry more requests."""
    headers = {"connection": "close"} if close_connection else None
    return _error_response(exc.status_code, exc.error_code, str(exc), headers, exc.body_extras())


def _render_registry_error(_request: Request, exc: RegistryError) -> JSONResponse:
    return error_response(exc)


def _render_database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.warning(
        "database unavailable", extra={"method": request.method, "path": request.url.path, "error": str(exc)}
    )
    return error_response(DatabaseUnavailableError())


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
