"""The CLI's HTTPS client for the hub: mTLS with the configured identity, errors as one clear line.

By default it talks to this state folder's local hub as the local admin identity; set
`HEADWATER_HUB_URL`, `HEADWATER_IDENTITY_CERT_FILE` and `HEADWATER_IDENTITY_KEY_FILE` to act as
another identity or against another hub."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from headwater.config import LocalSettings
from headwater.local.broker import LocalBroker
from headwater.local.stack import LocalStack
from headwater.registry.api.app import API_PREFIX
from headwater.registry.api.tls import client_ssl_context
from headwater.registry.errors import RegistryError

_TIMEOUT_S = 30.0


class HubUnreachableError(RegistryError):
    def __init__(self, url: str, problem: str) -> None:
        super().__init__(
            f"Cannot reach the hub at {url} ({problem}). Start it with `headwater local up`, or set HEADWATER_HUB_URL."
        )


class HubIdentityMissingError(RegistryError):
    def __init__(self, missing: str) -> None:
        super().__init__(
            f"No client certificate for the hub: {missing} does not exist. Run `headwater local up`, or set "
            "HEADWATER_IDENTITY_CERT_FILE and HEADWATER_IDENTITY_KEY_FILE to an identity's files."
        )


class HubRefusedError(RegistryError):
    """The hub answered with an error; the message is the hub's own, which says what to fix."""

    def __init__(self, status: int, error_code: int | None, message: str, body: dict[str, Any]) -> None:
        self.status, self.hub_error_code, self.body = status, error_code, body
        code = f", error {error_code}" if error_code is not None else ""
        super().__init__(f"The hub refused (HTTP {status}{code}): {message}")


class HubClient:
    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params={key: value for key, value in params.items() if value is not None})

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._call("POST", path, json=body)

    def delete(self, path: str) -> Any:
        return self._call("DELETE", path)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        if not response.is_success:
            raise _refusal(response)
        return response.json()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, f"{API_PREFIX}{path}", **kwargs)
        except httpx.TransportError as exc:
            raise HubUnreachableError(str(self._client.base_url), f"{type(exc).__name__}: {exc}") from exc


def _refusal(response: httpx.Response) -> HubRefusedError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return HubRefusedError(response.status_code, body.get("error_code"), str(body.get("message", response.text)), body)


@contextmanager
def hub_client(settings: LocalSettings) -> Iterator[HubClient]:
    url = settings.hub_url or LocalStack(settings).hub_url()
    admin = LocalBroker(settings).admin_files()
    certificate = settings.identity_cert_file or admin.certificate
    key = settings.identity_key_file or admin.key
    for path in (settings.ca_file, certificate, key):
        if not path.is_file():
            raise HubIdentityMissingError(str(path))
    context = client_ssl_context(settings.ca_file, certificate, key)
    with httpx.Client(base_url=url, verify=context, timeout=_TIMEOUT_S) as client:
        yield HubClient(client)
