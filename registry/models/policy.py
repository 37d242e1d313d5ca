from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from headwater.registry.models.base import Base, UTCDateTime


class PolicyWaiver(Base):
    """A time-limited exception to one rule for one subject or stream, granted by the hub admin.

    Rows are never deleted: a revoked waiver keeps its row with `revoked_at` set, so the audit log's
    references stay resolvable."""

    __tablename__ = "policy_waivers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(63), index=True)
    target: Mapped[str] = mapped_column(String(255), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    granted_by: Mapped[str] = mapped_column(String(63))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(63))
