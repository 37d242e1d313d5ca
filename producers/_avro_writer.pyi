"""Types of the C extension in _avro_writer.c (avro_encoder.py compiles its programs)."""

from collections.abc import Callable

class Deferred(Exception):
    """The writer does not take this value as is; fastavro encodes or refuses it."""

class Writer:
    def __init__(
        self, program: tuple[object, ...], header: bytes, fallback: Callable[[object], bytes] | None = None
    ) -> None: ...
    def encode(self, value: object) -> bytes:
        """The header, then the value's Avro encoding; if it does not take the value as is, what
        `fallback(value)` returns, or Deferred raised without a fallback."""
