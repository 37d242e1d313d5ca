"""Keep percent-encoded slashes inside path segments.

Confluent clients send a subject such as `team/payments-value` as `team%2Fpayments-value`, but the
server decodes the path before routing, so `/subjects/a%2Fversions%2F1` would be routed as version 1
of subject `a`. This middleware re-decodes the raw path with each encoded slash turned into a
private-use character, so a subject stays one path segment; `restore_slashes` turns it back.
Private-use characters are not printable, and subject validation refuses them, so no real subject
can contain the stand-in."""

import re
from urllib.parse import unquote

from starlette.types import ASGIApp, Receive, Scope, Send

SLASH_STAND_IN = "\ue000"
_STAND_IN_PERCENT_ENCODED = b"%EE%80%80"  # UTF-8 of U+E000
_ENCODED_SLASH = re.compile(rb"%2[fF]")


def restore_slashes(segment: str) -> str:
    return segment.replace(SLASH_STAND_IN, "/")


class EncodedSlashMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path: bytes | None = scope.get("raw_path")
        if scope["type"] == "http" and raw_path and _ENCODED_SLASH.search(raw_path):
            kept = _ENCODED_SLASH.sub(_STAND_IN_PERCENT_ENCODED, raw_path)
            scope = {**scope, "path": unquote(kept.decode("ascii", errors="replace"))}
        await self.app(scope, receive, send)
