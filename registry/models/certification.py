from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from headwater.registry.models.base import Base, UTCDateTime


class StreamManifest(Base):
    """What a backfill says it published: every live key with its value hash and broker position.

    Immutable once registered; a later backfill registers a new manifest and certification uses the
    newest. `entries` (zlib-compressed, see `streams/content_digest.py`) is loaded only when checked."""

    __tablename__ = "stream_manifests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stream: Mapped[str] = mapped_column(ForeignKey("streams.name"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(63))
    source: Mapped[str] = mapped_column(Text)
    """Where the records came from (a database table or query, a file), without credentials."""
    keys: Mapped[int] = mapped_column(Integer)
    key_digest: Mapped[str] = mapped_column(String(32))
    entry_digest: Mapped[str] = mapped_column(String(32))
    partitions: Mapped[list[dict[str, int]]] = mapped_column(JSON)
    """Per partition: `start_offset` (its end when the backfill began) and `last_offset` (its last write)."""
    schema_ids: Mapped[list[int]] = mapped_column(JSON)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The backfill's report: records sent, re-sent after a resume, tombstones of reconciled keys."""
    entries: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class StreamCertification(Base):
    """One check of a stream against its manifest and the rules of a certified topic: by `certify`
    (the owner's request) or by the drift auditor."""

    __tablename__ = "stream_certifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stream: Mapped[str] = mapped_column(ForeignKey("streams.name"), index=True)
    manifest_id: Mapped[int] = mapped_column(ForeignKey("stream_manifests.id"))
    kind: Mapped[str] = mapped_column(String(16))
    """`certify`, `audit` (configuration, offsets, ACLs, new records) or `content-audit` (a full re-scan)."""
    requested_by: Mapped[str] = mapped_column(String(63))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    passed: Mapped[bool] = mapped_column(Boolean)
    scanned_offsets: Mapped[dict[str, int]] = mapped_column(JSON)
    """Per partition (as a string), the offset the scan read up to (exclusive); empty when none ran."""
    report: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """One item per check: `check`, `passed`, `message`, `counts`, `samples`."""
