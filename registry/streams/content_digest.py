"""What a backfill wrote, in a form the hub can check against the topic: manifest entries and digests.

An entry is one key the backfill published: the key's bytes, a hash of the value's bytes, and the
partition and offset the broker acknowledged it at. Digests are order-independent (a sum of 128-bit
hashes modulo 2**128, a multiset hash): the backfill adds entries as deliveries are acknowledged, in
any order, and the hub adds the records it reads partition by partition, and both get the same figure
for the same content. They detect accidents (lost, stale or rewritten records), not forgeries: the
hash is not keyed.

Entries travel as bytes: per entry a varint key length, the key, 16 bytes of value hash, a varint
partition and a varint offset.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final, NamedTuple

HASH_BYTES: Final = 16
_MODULUS: Final = 1 << (8 * HASH_BYTES)


def value_hash(value: bytes) -> bytes:
    return hashlib.blake2b(value, digest_size=HASH_BYTES).digest()


def _hash_number(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=HASH_BYTES).digest())


class Entry(NamedTuple):
    key: bytes
    value_hash: bytes
    partition: int
    offset: int


@dataclass
class ContentDigest:
    """Distinct live keys, a digest of the keys, and a digest of each key with its value's hash."""

    keys: int = 0
    key_sum: int = 0
    entry_sum: int = 0

    def add(self, key: bytes, value_digest: bytes) -> None:
        self.add_entry(key, value_digest)
        self.key_sum = (self.key_sum + _hash_number(key)) % _MODULUS

    def add_entry(self, key: bytes, value_digest: bytes) -> None:
        """Count the key and its entry, not the key digest: half the hashing, where only the entry
        digest is compared (certification checks every key on its own)."""
        self.keys += 1
        self.entry_sum = (self.entry_sum + _hash_number(key + value_digest)) % _MODULUS

    @property
    def key_digest(self) -> str:
        return format(self.key_sum, "032x")

    @property
    def entry_digest(self) -> str:
        return format(self.entry_sum, "032x")

    @classmethod
    def restore(cls, keys: int, key_digest: str, entry_digest: str) -> ContentDigest:
        return cls(keys, int(key_digest, 16), int(entry_digest, 16))


def encode_entry(entry: Entry) -> bytes:
    return b"".join(
        (_varint(len(entry.key)), entry.key, entry.value_hash, _varint(entry.partition), _varint(entry.offset))
    )


def encode_entries(entries: Iterable[Entry]) -> bytes:
    return b"".join(encode_entry(entry) for entry in entries)


class MalformedEntriesError(ValueError):
    pass


def decode_entries(data: bytes) -> Iterator[Entry]:
    """Raises MalformedEntriesError when the bytes end inside an entry."""
    view, position, end = memoryview(data), 0, len(data)
    while position < end:
        length, position = _read_varint(view, position)
        key_end = position + length
        hash_end = key_end + HASH_BYTES
        if hash_end > end:
            raise MalformedEntriesError(f"an entry at byte {position} runs past the end ({end} bytes)")
        key, digest = bytes(view[position:key_end]), bytes(view[key_end:hash_end])
        partition, position = _read_varint(view, hash_end)
        offset, position = _read_varint(view, position)
        yield Entry(key, digest, partition, offset)


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        low, number = number & 0x7F, number >> 7
        if number:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _read_varint(view: memoryview, position: int) -> tuple[int, int]:
    number, shift = 0, 0
    while True:
        if position >= len(view):
            raise MalformedEntriesError(f"a number at byte {position} runs past the end ({len(view)} bytes)")
        byte = view[position]
        position += 1
        number |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return number, position
        shift += 7
        if shift > 63:
            raise MalformedEntriesError(f"a number ending at byte {position} is longer than 64 bits")
