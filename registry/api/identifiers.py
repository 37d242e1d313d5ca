"""Typed identifiers in paths and queries, bounded so that no value reaches the database out of range."""

from typing import Annotated, Final

from fastapi import Path, Query

MAX_ROW_ID: Final = 2**31 - 1
"""Row ids are INTEGER columns: 32-bit on PostgreSQL."""
MAX_SCHEMA_ID: Final = 2**31 - 1
"""Confluent schema ids are 32-bit: clients put them in 4 bytes of every record."""

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
SchemaId = Annotated[int, Path(ge=0, le=MAX_SCHEMA_ID, description="A schema id, as records carry it.")]
RowIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]
