"""Where a backfill reads a domain's current state: a database table or query, a JSON Lines file, or a
Python iterable. Each yields records with a *position* from which a later run resumes.

- A database (any SQLAlchemy URL) is read in key order with keyset paging (`WHERE key > last ORDER
  BY key LIMIT n`) inside one transaction. On PostgreSQL it is REPEATABLE READ, so every page comes
  from one snapshot; elsewhere (SQLite's driver starts no transaction for a SELECT) each page is read
  as it is then, which never misses a key present throughout. The position is the last key read; key
  columns must hold integers or strings and be unique (a primary key).
- A JSON Lines file: one object per line holding the key's and the value's fields; the position is
  the byte offset after the line.
- An iterable of (key, value) pairs; the position is the count consumed, so a resumed run must be
  given the same sequence.

Column and field names map one to one unless `columns` renames them (`{field: column}`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from sqlalchemy import Connection, MetaData, Table, create_engine, func, literal_column, select, text, tuple_
from sqlalchemy.engine import make_url
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError
from sqlalchemy.sql import Select

from headwater.producers.errors import SourceError

Position = Any
"""JSON-serialisable: where a source resumes (the last key, a byte offset, a count)."""


@dataclass(frozen=True)
class SourceRecord:
    key: Any
    value: dict[str, Any]
    position: Position


class BackfillSource(Protocol):
    @property
    def description(self) -> str:
        """What is read, for the manifest and progress: never credentials."""

    def count(self) -> int | None:
        """How many records there are, when the source can tell cheaply (for the progress bar)."""

    def records(self, after: Position | None) -> Iterator[SourceRecord]:
        """Records in the source's order, from just after `after` (from the start when None)."""


PLAIN_KEY: Final = "key"
"""The field name that maps the column of a key whose schema is not a record (a string, say)."""


@dataclass(frozen=True)
class FieldMapping:
    """Which column (or JSON attribute) holds each key and value field. No key fields means the key
    schema is not a record: the key is then the one column `PLAIN_KEY` maps (default `key`)."""

    key_fields: Sequence[str]
    value_fields: Sequence[str]
    columns: Mapping[str, str]

    def column(self, field: str) -> str:
        return self.columns.get(field, field)

    @property
    def key_columns(self) -> list[str]:
        return [self.column(field) for field in self.key_fields or [PLAIN_KEY]]

    def split(self, row: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        if self.key_fields:
            key: Any = {field: row[self.column(field)] for field in self.key_fields}
        else:
            key = row[self.column(PLAIN_KEY)]
        value = {field: row[self.column(field)] for field in self.value_fields if self.column(field) in row}
        return key, value


class SqlSource:
    def __init__(
        self,
        url: str,
        mapping: FieldMapping,
        table: str | None = None,
        query: str | None = None,
        page_size: int = 10_000,
    ) -> None:
        if (table is None) == (query is None):
            raise SourceError("Give a table or a query to read, not both and not neither.")
        self._url, self._mapping, self._page_size = url, mapping, page_size
        self._table_name, self._query = table, query
        self._safe_url = make_url(url).render_as_string(hide_password=True)
        self.description = f"{self._safe_url} table {table}" if table else f"{self._safe_url} query: {query}"
        self._engine = create_engine(url, isolation_level=_snapshot_isolation(url))

    def count(self) -> int | None:
        try:
            with self._engine.connect() as connection:
                source = self._selectable(connection)
                return int(connection.execute(select(func.count()).select_from(source)).scalar_one())
        except SQLAlchemyError as error:
            raise SourceError(f"Counting the rows of {self.description} failed: {_first_line(error)}") from error

    def records(self, after: Position | None) -> Iterator[SourceRecord]:
        try:
            with self._engine.connect() as connection, connection.begin():
                source = self._selectable(connection)
                key_columns = [source.c[name] for name in self._mapping.key_columns]
                last = list(after) if after is not None else None
                while True:
                    page: Select[Any] = select(source).order_by(*key_columns).limit(self._page_size)
                    if last is not None:
                        page = page.where(tuple_(*key_columns) > tuple_(*last))
                    rows = connection.execute(page).mappings().all()
                    for row in rows:
                        key, value = self._mapping.split(row)
                        last = [row[column.name] for column in key_columns]
                        yield SourceRecord(key, value, last)
                    if len(rows) < self._page_size:
                        return
        except SQLAlchemyError as error:
            raise SourceError(
                f"Reading {self.description} failed: {_first_line(error)}. Nothing after the last checkpoint "
                "was lost: fix the source and run the backfill again, it resumes."
            ) from error

    def _selectable(self, connection: Connection) -> Any:
        if self._table_name is not None:
            schema, _, name = self._table_name.rpartition(".")
            try:
                return Table(name, MetaData(), schema=schema or None, autoload_with=connection)
            except NoSuchTableError as error:
                raise SourceError(
                    f"There is no table {self._table_name!r} in {self._safe_url}; check --table."
                ) from error
        columns = [literal_column(name) for name in self._result_columns(connection)]
        return text(self._query or "").columns(*columns).subquery("source")

    def _result_columns(self, connection: Connection) -> list[str]:
        result = connection.execute(text(f"SELECT * FROM ({self._query}) AS source_columns LIMIT 0"))
        return list(result.keys())


class JsonLinesSource:
    def __init__(self, path: Path, mapping: FieldMapping) -> None:
        self._path, self._mapping = path, mapping
        self.description = f"JSON Lines file {path}"
        if not path.is_file():
            raise SourceError(f"{path} is not a file; give the JSON Lines file to read.")

    def count(self) -> int | None:
        with open(self._path, "rb") as lines:
            return sum(1 for line in lines if line.strip())

    def records(self, after: Position | None) -> Iterator[SourceRecord]:
        with open(self._path, "rb") as lines:
            offset = int(after or 0)
            lines.seek(offset)
            for number, line in enumerate(lines, start=1):
                offset += len(line)
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        raise ValueError("the line is not a JSON object")
                    key, value = self._mapping.split(row)
                except (ValueError, KeyError) as error:
                    raise SourceError(
                        f"{self._path}, line {number} after byte {offset - len(line)}: {error!r}. Fix the line "
                        "and run the backfill again: it resumes at this line."
                    ) from error
                yield SourceRecord(key, value, offset)


class IterableSource:
    def __init__(self, pairs: Iterable[tuple[Any, Mapping[str, Any]]], total: int | None = None) -> None:
        self._pairs, self._total = pairs, total
        self.description = "Python iterable"

    def count(self) -> int | None:
        return self._total

    def records(self, after: Position | None) -> Iterator[SourceRecord]:
        skip = int(after or 0)
        for index, (key, value) in enumerate(self._pairs, start=1):
            if index > skip:
                yield SourceRecord(key, dict(value), index)


def _snapshot_isolation(url: str) -> str | None:
    # One snapshot for every page; SQLite's read transactions are snapshots already.
    return "REPEATABLE READ" if make_url(url).get_backend_name() == "postgresql" else None


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
