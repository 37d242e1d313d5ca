"""Hand each connection's TLS client certificate to the app, as the ASGI TLS extension.

Stock uvicorn verifies client certificates (`ssl_cert_reqs=CERT_REQUIRED`) but never shows them to
the application. `ClientCertificateH11Protocol` reads the peer certificate once per connection and
puts it into every request's scope under `scope["extensions"]["tls"]`, shaped as the ASGI TLS
extension specifies (https://asgi.readthedocs.io/en/latest/specs/tls.html): `client_cert_chain` is a
list of PEM strings, the client's own certificate first. The app (see `deps.py`) thus depends on the
ASGI spec only, not on this server.

uvicorn internals relied on (uvicorn 0.54, `uvicorn/protocols/http/h11_impl.py`):
- one `H11Protocol` instance serves one connection, and asyncio calls its `connection_made` only
  after the TLS handshake completed, so the peer certificate is known there;
- `handle_events` hands every request to `self.app` (read per request), so an ASGI wrapper set on
  the instance in `connection_made` sees every request of that connection and no other.
"""

import asyncio
import ssl

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

TlsExtension = dict[str, object]


class ClientCertificateH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, adding the connection's TLS extension to each request scope."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if isinstance(ssl_object, ssl.SSLObject):
            self.app = _with_tls_extension(self.app, tls_extension(ssl_object))


def tls_extension(ssl_object: ssl.SSLObject) -> TlsExtension:
    """The ASGI TLS extension of one connection; the optional fields the spec defaults are left out."""
    der = ssl_object.getpeercert(binary_form=True)
    # Python exposes only the peer's own certificate, not the intermediates it sent: the hub CA
    # signs leaf certificates directly, so the chain the app sees is complete.
    chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
    return {"client_cert_chain": chain}


def _with_tls_extension(app: ASGIApp, tls: TlsExtension) -> ASGIApp:
    async def app_with_tls(scope: Scope, receive: Receive, send: Send) -> None:
        scope["extensions"] = {**(scope.get("extensions") or {}), "tls": tls}
        await app(scope, receive, send)

    return app_with_tls
