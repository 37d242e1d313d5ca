"""The lifecycle of a catalog stream."""

from enum import StrEnum


class StreamState(StrEnum):
    """PENDING while registering; REGISTERED once everything exists; PUBLISHING once a backfill started;
    CERTIFIED once the hub verified its full history; DEGRADED when an audit finds drift; DEPRECATED
    with a sunset date; DELETED after it."""

    PENDING = "PENDING"
    REGISTERED = "REGISTERED"
    PUBLISHING = "PUBLISHING"
    CERTIFIED = "CERTIFIED"
    DEGRADED = "DEGRADED"
    DEPRECATED = "DEPRECATED"
    DELETED = "DELETED"


class GrantState(StrEnum):
    """An access grant: REQUESTED, then APPROVED or DENIED by the stream owner; APPROVED until REVOKED."""

    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    DENIED = "DENIED"
    REVOKED = "REVOKED"
