"""Confluent's wire format: magic byte 0, the schema id as 4 big-endian bytes, then the Avro body.

Stock Confluent deserializers (and Kafka Connect, ksqlDB, ...) read what the SDK writes.
"""

from __future__ import annotations

import struct
from typing import Final

from headwater.producers.errors import NotAStreamMessageError

MAGIC_BYTE: Final = 0
_HEADER: Final = struct.Struct(">bI")


def frame(schema_id: int, body: bytes) -> bytes:
    return _HEADER.pack(MAGIC_BYTE, schema_id) + body


def unframe(message: bytes) -> tuple[int, bytes]:
    """The schema id and the Avro body of a framed message."""
    if len(message) < _HEADER.size:
        raise NotAStreamMessageError(f"{len(message)} bytes, shorter than the 5-byte header")
    magic, schema_id = _HEADER.unpack_from(message)
    if magic != MAGIC_BYTE:
        raise NotAStreamMessageError(f"magic byte {magic}")
    return schema_id, message[_HEADER.size :]
