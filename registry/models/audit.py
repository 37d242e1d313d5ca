from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from headwater.registry.models.base import Base, UTCDateTime


class AuditEntry(Base):
    """One change the hub made or refused: who, what, on which target, when, and what it looked like.

    Append-only: the migration adds triggers that refuse UPDATE and DELETE on this table."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(63), index=True)
    """The authenticated identity (certificate CN), or `headwater` for the hub's own actions."""
    action: Mapped[str] = mapped_column(String(64), index=True)
    """What was attempted, e.g. `schema.register`, `policy.waiver.grant`."""
    target: Mapped[str] = mapped_column(String(255), index=True)
    """The subject, stream or rule the action was about."""
    outcome: Mapped[str] = mapped_column(String(16))
    """`done` or `refused`."""
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The policy decision and any action-specific facts."""
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
