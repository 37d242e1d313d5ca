"""Typed identifiers and instants in paths, queries and bodies, bounded so that no value reaches the
database out of range."""

from datetime import UTC, datetime
from typing import Annotated, Final

from fastapi import Path, Query
from pydantic import AfterValidator

from headwater.registry.services.subjects import MAX_VERSION

MAX_ROW_ID: Final = 2**31 - 1
"""Row ids are INTEGER columns: 32-bit on PostgreSQL."""
MAX_SCHEMA_ID: Final = 2**31 - 1
"""Confluent schema ids are 32-bit: clients put them in 4 bytes of every record."""
MAX_INT32: Final = 2**31 - 1
"""Counts stored in INTEGER columns (32-bit on PostgreSQL) and Kafka's own int32 fields."""

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
SchemaId = Annotated[int, Path(ge=0, le=MAX_SCHEMA_ID, description="A schema id, as records carry it.")]
RowIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]


def _in_utc(instant: datetime) -> datetime:
    """Stored instants are UTC: one that UTC cannot hold (`9999-12-31T23:59:59-14:00`) is refused as
    invalid input, not left to overflow on the way to the database. A naive one is left to the route."""
    if instant.tzinfo is None:
        return instant
    try:
        return instant.astimezone(UTC)
    except OverflowError:
        raise ValueError("the instant lies outside the years 1 to 9999 once converted to UTC") from None


Instant = Annotated[datetime, AfterValidator(_in_utc)]
"""An ISO 8601 instant from a request body, converted to UTC."""
VersionQuery = Annotated[int, Query(ge=1, le=MAX_VERSION, description="A version number of the subject.")]
