from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from headwater.registry.models.base import Base, UTCDateTime


class SchemaText(Base):
    """One distinct schema, with its global id. Stored records carry the id, so it never changes."""

    __tablename__ = "schemas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    schema_type: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    """sha256 of schema_type and text: the key that gives one schema the same id under every subject."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RegistryCounter(Base):
    """A counter the registry allocates from, one row each (`schema_id`: the last schema id given).

    Allocation updates the row, which locks it until the transaction ends (PostgreSQL locks the row,
    SQLite the database): registrations holding it run one after another, so no two can pick the same
    id, version or fingerprint, and none needs retrying."""

    __tablename__ = "registry_counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class SubjectVersion(Base):
    """A version of a subject. Soft-deleted versions stay (their ids must still resolve)."""

    __tablename__ = "subject_versions"
    __table_args__ = (UniqueConstraint("subject", "version", name="uq_subject_versions_subject_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int] = mapped_column(Integer)
    schema_id: Mapped[int] = mapped_column(ForeignKey("schemas.id"), index=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    schema: Mapped[SchemaText] = relationship()


class RegistrySetting(Base):
    """Compatibility level and mode, globally (scope '') or per subject (scope = subject name)."""

    __tablename__ = "registry_settings"

    scope: Mapped[str] = mapped_column(String(255), primary_key=True)
    compatibility: Mapped[str | None] = mapped_column(String(32))
    mode: Mapped[str | None] = mapped_column(String(16))


class SubjectGrant(Base):
    """An identity allowed to write a subject besides the hub admin."""

    __tablename__ = "subject_grants"

    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    identity_name: Mapped[str] = mapped_column(ForeignKey("identities.name"), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
