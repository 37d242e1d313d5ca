"""Read each request's body once, within a size limit, and refuse what no route may be handed.

Runs right after authentication (an unauthenticated caller's body is never read) and before routing:

- Size: a `Content-Length` above the limit is refused before reading; a body without one (chunked) is
  counted as it arrives and refused once past the limit. Both refusals close the connection, since the
  client may still be sending; the hub never holds more than the limit.
- Path and query: no U+0000 (PostgreSQL text cannot hold it; routes validate everything else).
- JSON bodies, checked before any route decodes them: bytes that are no text at all, nesting within
  `json_text.MAX_JSON_DEPTH` (Python's decoder recurses per level), integers within 64 bits and finite numbers
  (no column stores more), and no string, object keys included, holding U+0000, a lone surrogate or a
  control character other than tab and line breaks. These refusals come after the body was read: the
  connection stays open.

Anything else (not JSON, the wrong shape) is left to the route's own validation.
"""

import math
import re
from dataclasses import dataclass
from typing import NoReturn

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from headwater.registry.api.authentication import CALLER_SCOPE_KEY, Caller
from headwater.registry.api.errors import (
    NumberOutOfRangeError,
    RequestBodyNotTextError,
    RequestBodyTooLargeError,
    TextCharacterRefusedError,
    declared_body_length,
    error_response,
)
from headwater.registry.api.prefix import API_PREFIX
from headwater.registry.errors import JsonNestingTooDeepError, RegistryError
from headwater.registry.schemas.errors import JsonTooDeepError
from headwater.registry.schemas.json_text import (
    decode_json,
    first_string_problem,
    printable,
    refused_character_in,
)

_INT64 = range(-(2**63), 2**63)
_INT64_DIGITS = 19
_CHECKED_ON_THE_LOOP_BYTES = 64 * 1024
"""Smaller bodies are checked in well under a millisecond, cheaper than a hop to the thread pool."""


class _ClientGone(Exception):
    """The client disconnected before sending its whole body: nobody is left to answer."""


class _NumberOutOfRange(Exception):
    def __init__(self, literal: str) -> None:
        self.literal = literal


_MANIFEST_ROUTE = re.compile(rf"^{re.escape(API_PREFIX)}/streams/(?P<domain>[^/.]+)\.[^/]+/(?:manifests|stale-keys)$")
"""A backfill's manifest and its stale-key reconciliation: the bodies that grow with a stream's keys."""


@dataclass(frozen=True)
class _Limit:
    max_bytes: int
    setting: str


class RequestBodyMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int, max_manifest_body_bytes: int) -> None:
        self.app = app
        self._default = _Limit(max_body_bytes, "HEADWATER_MAX_REQUEST_BODY_BYTES")
        self._manifests = _Limit(max_manifest_body_bytes, "HEADWATER_MAX_MANIFEST_BODY_BYTES")

    def _limit(self, scope: Scope) -> _Limit:
        """The manifest limit only where a manifest goes, for callers who could own the stream (the admin,
        or its domain, read off the path without a database query); the default limit for everyone else,
        so a stranger's large body is refused as fast as anywhere."""
        route = _MANIFEST_ROUTE.match(scope["path"]) if scope["method"] == "POST" else None
        caller = scope.get(CALLER_SCOPE_KEY)
        if route is not None and isinstance(caller, Caller) and (caller.is_admin or caller.domain == route["domain"]):
            return self._manifests
        return self._default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        try:
            _refuse_declared_size(scope, limit)
            body = await _read_body(receive, limit)
        except RequestBodyTooLargeError as refused:
            await error_response(refused, close_connection=True)(scope, receive, send)
            return
        except _ClientGone:
            return
        try:
            _refuse_nul_in_path_or_query(scope)
            if len(body) <= _CHECKED_ON_THE_LOOP_BYTES:
                _check_json(body)
            else:  # decoding a few MB takes a second or so: not on the event loop every request waits for
                await run_in_threadpool(_check_json, body)
        except RegistryError as refused:
            await error_response(refused)(scope, receive, send)
            return
        await self.app(scope, _replaying(body, receive), send)


def _refuse_declared_size(scope: Scope, limit: _Limit) -> None:
    declared = declared_body_length(scope)
    if declared is not None and declared > limit.max_bytes:
        raise RequestBodyTooLargeError(limit.max_bytes, limit.setting)


async def _read_body(receive: Receive, limit: _Limit) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit.max_bytes:
            raise RequestBodyTooLargeError(limit.max_bytes, limit.setting)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """`receive` for the app: the body read here, then the server's own (which reports a disconnect)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _refuse_nul_in_path_or_query(scope: Scope) -> None:
    if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
        raise TextCharacterRefusedError("a NUL character (U+0000)", "the path or query")


def _check_json(body: bytes) -> None:
    if not body:
        return
    try:
        document = decode_json(body, parse_int=_int64, parse_float=_finite, parse_constant=_refuse_constant)
    except JsonTooDeepError as exc:
        raise JsonNestingTooDeepError("the request body", exc.limit) from None
    except _NumberOutOfRange as exc:
        raise NumberOutOfRangeError(exc.literal) from None
    except UnicodeDecodeError:
        raise RequestBodyNotTextError() from None
    except ValueError:  # not JSON: the route's validation answers, for the routes that take a body
        return
    found = first_string_problem(document, refused_character_in)
    if found is not None:
        path, character = found
        raise TextCharacterRefusedError(character, f"the request body (at {printable(path)})")


def _int64(literal: str) -> int:
    # Length first: `int` of thousands of digits is slow, and beyond 4,300 refused by Python itself.
    if len(literal.lstrip("-")) > _INT64_DIGITS:
        raise _NumberOutOfRange(literal)
    number = int(literal)
    if number not in _INT64:
        raise _NumberOutOfRange(literal)
    return number


def _finite(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise _NumberOutOfRange(literal)
    return number


def _refuse_constant(literal: str) -> NoReturn:
    raise _NumberOutOfRange(literal)
