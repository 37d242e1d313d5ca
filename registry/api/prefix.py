"""Where the hub's own API lives; the Confluent-compatible API sits at the root, as clients expect."""

from typing import Final

API_PREFIX: Final = "/api/v1"
