from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from headwater.registry.models.base import Base, UTCDateTime


class Identity(Base):
    """A service or person that authenticates with certificates issued by the hub CA."""

    __tablename__ = "identities"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    domain: Mapped[str] = mapped_column(String(63), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    certificates: Mapped[list["Certificate"]] = relationship(
        back_populates="identity", order_by="Certificate.not_before"
    )


class Certificate(Base):
    """One certificate the CA issued. Serials are hex strings: X.509 serials reach 159 bits."""

    __tablename__ = "certificates"

    serial: Mapped[str] = mapped_column(String(40), primary_key=True)
    identity_name: Mapped[str] = mapped_column(ForeignKey("identities.name"), index=True)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Set in the future for a certificate a renewal replaced: it stays valid for a grace period."""
    issued_via: Mapped[str] = mapped_column(String(16))
    """`hub-machine` (the CA key's holder) or `api` (an authenticated caller): `IssuancePath`."""
    public_key_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    """Of the certified key; unknown for certificates issued before migration 0007."""

    identity: Mapped[Identity] = relationship(back_populates="certificates")
