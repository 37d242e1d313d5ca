"""Refuse NUL characters in paths, queries and JSON bodies with a clear 422.

PostgreSQL text cannot hold U+0000 (the driver raises, which would be a 500), and no name, schema or
description needs one; refusing them at the edge gives both databases the same answer."""

import json
from collections.abc import Iterator

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NUL_ERROR_CODE = 42200


class RefuseNulMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            await _refuse("the path or query")(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        if b"\\u0000" in body and _json_holds_nul(body):
            await _refuse("the request body")(scope, receive, send)
            return
        replay = iter(messages)

        async def replayed() -> Message:
            return next(replay, {"type": "http.disconnect"})

        await self.app(scope, replayed, send)


def _refuse(where: str) -> JSONResponse:
    message = f"NUL characters (U+0000) are not accepted in {where}; remove them and send the request again."
    return JSONResponse({"error_code": NUL_ERROR_CODE, "message": message}, status_code=422)


def _json_holds_nul(body: bytes) -> bool:
    """Whether a string of the JSON document (key or value) holds U+0000; `\\\\u0000` (an escaped
    backslash followed by `u0000`) does not count."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False  # not JSON: the route's own validation answers
    return any("\x00" in text for text in _strings(document))


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
