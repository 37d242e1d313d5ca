from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from headwater.registry.models.base import Base, UTCDateTime


class Domain(Base):
    """A business domain (`payments`): the first part of its streams' names, owned by one team."""

    __tablename__ = "domains"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    owning_team: Mapped[str] = mapped_column(String(255))
    contact: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(63))


class Stream(Base):
    """A registered stream: a compacted topic of the same name, its key and value subjects, its owner.

    A registration first commits the row as PENDING (the primary key decides races), then records each
    completed step in `registration_steps`, so a failure (or the reconciler, after a crash) knows what
    to undo. `lease_expires_at` says until when the registering hub is known to be working on it."""

    __tablename__ = "streams"

    name: Mapped[str] = mapped_column(String(249), primary_key=True)
    domain: Mapped[str] = mapped_column(ForeignKey("domains.name"), index=True)
    entity: Mapped[str] = mapped_column(String(249))
    description: Mapped[str] = mapped_column(Text)
    owner_identity: Mapped[str] = mapped_column(String(63), index=True)
    """No foreign key: a registration reserves the name before it issues a new owner its identity."""
    owner_team: Mapped[str] = mapped_column(String(255))
    contact: Mapped[str] = mapped_column(String(255))
    partitions: Mapped[int] = mapped_column(Integer)
    tags: Mapped[list[str]] = mapped_column(JSON)
    is_source: Mapped[bool] = mapped_column(Boolean)
    has_pii: Mapped[bool] = mapped_column(Boolean)
    """Not indexed on purpose: a boolean index led SQLite to read every PII stream before sorting."""
    compatibility: Mapped[str] = mapped_column(String(32))
    topic_config: Mapped[dict[str, str]] = mapped_column(JSON)
    key_subject: Mapped[str] = mapped_column(String(255))
    value_subject: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_by: Mapped[str] = mapped_column(String(63))
    registration_steps: Mapped[list[str]] = mapped_column(JSON)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deprecated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sunset_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deprecation_message: Mapped[str | None] = mapped_column(Text)
    data_rules: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    """Data-contract rules (name, expression, message) the producer SDK checks every record against."""


class StreamTag(Base):
    """One tag of a stream, a row each so that tag filters use an index on every database."""

    __tablename__ = "stream_tags"

    stream: Mapped[str] = mapped_column(ForeignKey("streams.name", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(63), primary_key=True, index=True)


class StreamField(Base):
    """One field of a stream's latest key or value schema, flattened, for search and PII filters."""

    __tablename__ = "stream_fields"

    stream: Mapped[str] = mapped_column(ForeignKey("streams.name", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(8), primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(32))
    doc: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON)
    search_name: Mapped[str] = mapped_column(String(255), index=True)
    """`name` lowercased: searches match field names case-insensitively through an index."""
    search_path: Mapped[str] = mapped_column(String(1024), index=True)
    """`path` lowercased, e.g. `buyer.email`."""


class AccessGrant(Base):
    """A consumer identity's read access to a stream: REQUESTED, then APPROVED or DENIED, then REVOKED."""

    __tablename__ = "access_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stream: Mapped[str] = mapped_column(ForeignKey("streams.name"), index=True)
    consumer_identity: Mapped[str] = mapped_column(ForeignKey("identities.name"), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(63))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class Job(Base):
    """A processing job: which streams it reads and writes (lineage)."""

    __tablename__ = "jobs"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    owner_identity: Mapped[str] = mapped_column(ForeignKey("identities.name"), index=True)
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JobStream(Base):
    """One input or output of a job."""

    __tablename__ = "job_streams"
    __table_args__ = (UniqueConstraint("job", "stream", "direction", name="uq_job_streams_job"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(ForeignKey("jobs.name", ondelete="CASCADE"), index=True)
    stream: Mapped[str] = mapped_column(ForeignKey("streams.name"), index=True)
    direction: Mapped[str] = mapped_column(String(8))
    """`input` or `output`."""
