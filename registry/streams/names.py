"""Stream names: `<domain>.<entity>`, also the Kafka topic name and the prefix of its subjects."""

from __future__ import annotations

import re
from typing import Final

from headwater.registry.ca.authority import is_valid_name
from headwater.registry.streams.errors import InvalidStreamNameError

MAX_STREAM_NAME = 200
"""Kafka allows 249 characters; 200 leaves room for the `-value` subject and consumer group names."""
_ENTITY: Final = r"[a-z][a-z0-9-]*"
"""No '_': Kafka's metric names turn '.' into '_', so `a.b_c` and `a_b.c` would collide."""


def split_stream_name(name: str) -> tuple[str, str]:
    """(domain, entity) of a valid stream name; raises `InvalidStreamNameError` naming the problem."""
    if len(name) > MAX_STREAM_NAME:
        raise InvalidStreamNameError(name[:40] + "...", f"it is longer than {MAX_STREAM_NAME} characters")
    domain, dot, entity = name.partition(".")
    if not dot:
        raise InvalidStreamNameError(name, "it has no '.' between domain and entity")
    if not is_valid_name(domain):
        raise InvalidStreamNameError(name, f"domain {domain!r} must be 1-63 of a-z, 0-9 and '-', not ending in '-'")
    if not re.fullmatch(_ENTITY, entity):
        raise InvalidStreamNameError(name, f"entity {entity!r} must start with a letter; a-z, 0-9 and '-' only")
    return domain, entity
