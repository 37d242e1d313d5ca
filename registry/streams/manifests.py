"""Backfill manifests: what a backfill says it published, checked for consistency before it is stored.

Only the stream's owner (or the hub admin) registers one. The hub recomputes the key count and both
digests from the entries and refuses a manifest whose figures do not add up, whose entries repeat a
key, name a partition the topic does not have, or whose schema ids are not the stream's.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from headwater.policies import Requester
from headwater.registry.models import Stream, StreamManifest, SubjectVersion
from headwater.registry.services.audit import DONE, record_audit
from headwater.registry.streams.content_digest import ContentDigest, MalformedEntriesError, decode_entries
from headwater.registry.streams.errors import (
    ManifestInvalidError,
    ManifestNotFoundError,
    StreamNotActiveError,
    StreamNotFoundError,
    StreamWriteForbiddenError,
)
from headwater.registry.streams.state import StreamState

PUBLISHABLE = (
    StreamState.REGISTERED.value,
    StreamState.PUBLISHING.value,
    StreamState.CERTIFIED.value,
    StreamState.DEGRADED.value,
)

ManifestPositions = dict[int, dict[bytes, tuple[int, bytes]]]
"""Per partition: key → (offset, value hash) as the backfill's deliveries were acknowledged."""


@dataclass(frozen=True)
class ManifestPartition:
    partition: int
    start_offset: int
    """The partition's end offset when the backfill began: live keys written before it and missing
    from the manifest are stale (the source no longer has them)."""
    last_offset: int
    """The offset of the backfill's last write to the partition; -1 when it wrote none there."""


@dataclass(frozen=True)
class ManifestFigures:
    source: str
    keys: int
    key_digest: str
    entry_digest: str
    partitions: list[ManifestPartition]
    schema_ids: list[int]
    details: dict[str, Any]
    entries: bytes
    """zlib-compressed entries (see content_digest)."""


@dataclass(frozen=True)
class ManifestRecord:
    id: int
    stream: str
    created_at: datetime
    created_by: str
    source: str
    keys: int
    key_digest: str
    entry_digest: str
    partitions: list[ManifestPartition]
    schema_ids: list[int]
    details: dict[str, Any]


def stream_schema_ids(session: Session, stream: Stream) -> set[int]:
    """Every schema id of the stream's key and value subjects, soft-deleted versions included (records
    written with them are still the stream's)."""
    subjects = (stream.key_subject, stream.value_subject)
    return set(session.scalars(select(SubjectVersion.schema_id).where(SubjectVersion.subject.in_(subjects))))


def owned_stream(session: Session, requester: Requester, name: str, action: str) -> Stream:
    row = session.get(Stream, name)
    if row is None or row.state == StreamState.PENDING.value:
        raise StreamNotFoundError(name)
    if not (requester.is_admin or requester.identity == row.owner_identity):
        raise StreamWriteForbiddenError(requester.identity, f"{action} of stream '{name}' (its owner may)")
    if row.state not in PUBLISHABLE:
        raise StreamNotActiveError(name, row.state, action)
    return row


def manifest_positions(entries: bytes, stream: str, digest: ContentDigest | None = None) -> ManifestPositions:
    """The entries by partition (added to `digest` when given); raises ManifestInvalidError for a
    malformed or repeating list."""
    positions: ManifestPositions = defaultdict(dict)
    try:
        for entry in decode_entries(zlib.decompress(entries)):
            by_key = positions[entry.partition]
            if entry.key in by_key:
                raise ManifestInvalidError(stream, [f"key {entry.key.hex()} appears twice in the entries"])
            by_key[entry.key] = (entry.offset, entry.value_hash)
            if digest is not None:
                digest.add(entry.key, entry.value_hash)
    except (zlib.error, MalformedEntriesError) as error:
        raise ManifestInvalidError(stream, [f"the entries cannot be read ({error})"]) from error
    return positions


class ManifestBook:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def register(self, requester: Requester, name: str, figures: ManifestFigures) -> ManifestRecord:
        digest = ContentDigest()
        positions = manifest_positions(figures.entries, name, digest)
        with self._sessions.begin() as session:
            stream = owned_stream(session, requester, name, "registering a manifest")
            problems = _inconsistencies(figures, digest, positions, stream, stream_schema_ids(session, stream))
            if problems:
                raise ManifestInvalidError(name, problems)
            row = StreamManifest(
                stream=name,
                created_at=datetime.now(UTC),
                created_by=requester.identity,
                source=figures.source,
                keys=figures.keys,
                key_digest=figures.key_digest,
                entry_digest=figures.entry_digest,
                partitions=[vars(partition) for partition in figures.partitions],
                schema_ids=sorted(figures.schema_ids),
                details=figures.details,
                entries=figures.entries,
            )
            session.add(row)
            before = {"state": stream.state}
            if stream.state == StreamState.REGISTERED.value:
                stream.state, stream.updated_at = StreamState.PUBLISHING.value, datetime.now(UTC)
            session.flush()
            summary = {"manifest": row.id, "keys": row.keys, "source": row.source, **figures.details}
            record_audit(
                session, requester.identity, "stream.manifest", name, DONE, summary, before, {"state": stream.state}
            )
            return _record(row)

    def latest(self, name: str) -> ManifestRecord:
        with self._sessions() as session:
            row = session.scalars(
                select(StreamManifest).where(StreamManifest.stream == name).order_by(StreamManifest.id.desc()).limit(1)
            ).first()
            if row is None:
                raise ManifestNotFoundError(name)
            return _record(row)

    def get(self, manifest_id: int) -> ManifestRecord:
        with self._sessions() as session:
            row = session.get(StreamManifest, manifest_id)
            assert row is not None, f"manifest {manifest_id} is referenced but missing"
            return _record(row)

    def entries(self, manifest_id: int) -> bytes:
        with self._sessions() as session:
            row = session.get(StreamManifest, manifest_id)
            assert row is not None
            return row.entries


def _inconsistencies(
    figures: ManifestFigures,
    digest: ContentDigest,
    positions: ManifestPositions,
    stream: Stream,
    schema_ids: set[int],
) -> list[str]:
    problems = []
    if digest.keys != figures.keys:
        problems.append(f"it counts {figures.keys} keys but its entries hold {digest.keys}")
    if digest.key_digest != figures.key_digest:
        problems.append(f"its key digest {figures.key_digest} is not the entries' {digest.key_digest}")
    if digest.entry_digest != figures.entry_digest:
        problems.append(f"its entry digest {figures.entry_digest} is not the entries' {digest.entry_digest}")
    numbers = sorted(partition.partition for partition in figures.partitions)
    if numbers != list(range(stream.partitions)):
        problems.append(f"it describes partitions {numbers}; the topic has {stream.partitions}")
    outside = sorted(set(positions) - set(range(stream.partitions)))
    if outside:
        problems.append(f"entries name partitions {outside} the topic does not have")
    unknown = sorted(set(figures.schema_ids) - schema_ids)
    if unknown:
        problems.append(f"schema ids {unknown} are not versions of {stream.key_subject} or {stream.value_subject}")
    return problems


def _record(row: StreamManifest) -> ManifestRecord:
    return ManifestRecord(
        id=row.id,
        stream=row.stream,
        created_at=row.created_at,
        created_by=row.created_by,
        source=row.source,
        keys=row.keys,
        key_digest=row.key_digest,
        entry_digest=row.entry_digest,
        partitions=[ManifestPartition(**partition) for partition in row.partitions],
        schema_ids=list(row.schema_ids),
        details=dict(row.details),
    )
