"""The hub's own API (`/api/v1`) over mTLS, for the SDK and the CLI: JSON in, JSON out, errors as one line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from headwater.producers.connection import HubConnection
from headwater.registry.api.prefix import API_PREFIX
from headwater.registry.errors import RegistryError

DEFAULT_TIMEOUT_S = 30.0


class HubUnreachableError(RegistryError):
    def __init__(self, url: str, problem: str) -> None:
        super().__init__(
            f"Cannot reach the hub at {url} ({problem}). Start it with `headwater local up`, or set HEADWATER_HUB_URL."
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

    def get_registry(self, path: str) -> Any:
        """GET on the Confluent-compatible API, which lives at the root (e.g. `/subjects/s/versions/latest`)."""
        return self._call("GET", path, prefix="")

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._call("POST", path, json=body)

    def delete(self, path: str) -> Any:
        return self._call("DELETE", path)

    def _call(self, method: str, path: str, prefix: str = API_PREFIX, **kwargs: Any) -> Any:
        response = self._send(method, f"{prefix}{path}", **kwargs)
        if not response.is_success:
            raise _refusal(response)
        return response.json()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, path, **kwargs)
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
def open_hub(connection: HubConnection, timeout_s: float = DEFAULT_TIMEOUT_S) -> Iterator[HubClient]:
    """`timeout_s` bounds each request; calls that make the hub read a whole topic need minutes."""
    with httpx.Client(base_url=connection.url, verify=connection.ssl_context(), timeout=timeout_s) as client:
        yield HubClient(client)
