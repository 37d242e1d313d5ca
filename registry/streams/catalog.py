"""Browse the catalog: search with filters, sorting and cursor pagination; one stream in detail."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from confluent_kafka import KafkaException
from sqlalchemy import Row, Select, and_, exists, or_, select
from sqlalchemy.orm import Session, sessionmaker

from headwater.registry.database import single_read_sessions
from headwater.registry.governance.schema_tree import schema_tree
from headwater.registry.models import AccessGrant, Job, JobStream, Stream, StreamField, StreamTag, SubjectVersion
from headwater.registry.schema_registry_errors import VersionNotFoundError
from headwater.registry.schemas import parse_schema
from headwater.registry.streams.errors import InvalidQueryError, StreamNotFoundError
from headwater.registry.streams.field_diff import FieldChange, field_diff
from headwater.registry.streams.kafka_facts import LogDirs, TopicFacts, topic_facts
from headwater.registry.streams.registration import KafkaAdmin
from headwater.registry.streams.state import GrantState, StreamState

SORTS: Final = ("name", "-name", "created_at", "-created_at")
MAX_LIMIT: Final = 200
_HIDDEN_BY_DEFAULT: Final = (StreamState.PENDING.value, StreamState.DELETED.value)
_SUMMARY_COLUMNS: Final = (
    Stream.name,
    Stream.domain,
    Stream.description,
    Stream.owner_identity,
    Stream.state,
    Stream.partitions,
    Stream.tags,
    Stream.has_pii,
    Stream.created_at,
    Stream.deprecation_message,
    Stream.sunset_at,
)


@dataclass(frozen=True)
class StreamQuery:
    q: str | None = None
    """Matched case-insensitively: a substring of the name or description, or a whole field name or dotted
    path (e.g. `email`, `buyer.email`) anywhere in the key or value schema."""
    domain: str | None = None
    owner: str | None = None
    state: str | None = None
    tag: str | None = None
    has_pii: bool | None = None
    sort: str = "name"
    cursor: str | None = None
    limit: int = 50


@dataclass(frozen=True)
class StreamSummary:
    name: str
    domain: str
    description: str
    owner: str
    state: str
    partitions: int
    tags: list[str]
    has_pii: bool
    created_at: datetime
    deprecation_message: str | None
    sunset_at: datetime | None


@dataclass(frozen=True)
class StreamPage:
    items: list[StreamSummary]
    next_cursor: str | None


@dataclass(frozen=True)
class SchemaVersionInfo:
    version: int
    schema_id: int
    deleted: bool
    created_at: datetime


@dataclass(frozen=True)
class Consumer:
    identity: str
    purpose: str
    since: datetime | None


@dataclass(frozen=True)
class JobLink:
    job: str
    owner: str
    direction: str


@dataclass(frozen=True)
class StreamDetail:
    summary: StreamSummary
    owner_team: str
    contact: str
    is_source: bool
    compatibility: str
    topic_config: dict[str, str]
    data_rules: list[dict[str, str]]
    key_subject: str
    value_subject: str
    key_versions: list[SchemaVersionInfo]
    value_versions: list[SchemaVersionInfo]
    fields: list[dict[str, Any]]
    consumers: list[Consumer]
    lineage: list[JobLink]
    live: TopicFacts | None
    live_error: str | None = field(default=None)


class StreamCatalog:
    def __init__(self, sessions: sessionmaker[Session], kafka_admin: KafkaAdmin, log_dirs: LogDirs) -> None:
        self._sessions = sessions
        self._single_reads = single_read_sessions(sessions)
        self._kafka_admin = kafka_admin
        self._log_dirs = log_dirs

    def search(self, query: StreamQuery) -> StreamPage:
        if query.sort not in SORTS:
            raise InvalidQueryError(f"sort must be one of {', '.join(SORTS)}, not {query.sort!r}")
        if not 1 <= query.limit <= MAX_LIMIT:
            raise InvalidQueryError(f"limit must be between 1 and {MAX_LIMIT}, not {query.limit}")
        statement = self._filtered(query)
        statement = self._after_cursor(statement, query)
        column = Stream.created_at if query.sort.lstrip("-") == "created_at" else Stream.name
        descending = query.sort.startswith("-")
        order = [column.desc(), Stream.name.desc()] if descending else [column.asc(), Stream.name.asc()]
        statement = statement.order_by(*order).limit(query.limit + 1)
        with self._single_reads() as session:
            rows = list(session.execute(statement))
        more = len(rows) > query.limit
        items = [_summary(row) for row in rows[: query.limit]]
        next_cursor = _cursor(query.sort, rows[query.limit - 1]) if more else None
        return StreamPage(items, next_cursor)

    def _filtered(self, query: StreamQuery) -> Select[Any]:
        # Only the columns a summary shows: whole rows would also decode two more JSON columns per stream.
        statement = select(*_SUMMARY_COLUMNS)
        if query.state is not None:
            statement = statement.where(Stream.state == query.state.upper())
        else:
            statement = statement.where(Stream.state.not_in(_HIDDEN_BY_DEFAULT))
        if query.domain is not None:
            statement = statement.where(Stream.domain == query.domain)
        if query.owner is not None:
            statement = statement.where(Stream.owner_identity == query.owner)
        if query.has_pii is not None:
            statement = statement.where(Stream.has_pii.is_(query.has_pii))
        if query.tag is not None:
            # EXISTS probes the (stream, tag) primary key row by row while streams are read in sort
            # order, so a page stops early; an IN list would first collect every stream with the tag.
            statement = statement.where(exists().where(StreamTag.stream == Stream.name, StreamTag.tag == query.tag))
        if query.q:
            # Names and descriptions match as substrings; field names and dotted paths match whole
            # (case-insensitively), through an index, anywhere in the key or value schema.
            text = query.q.lower()
            pattern = f"%{_escape_like(text)}%"
            fields = select(StreamField.stream).where(
                or_(StreamField.search_name == text, StreamField.search_path == text)
            )
            statement = statement.where(
                or_(
                    Stream.name.ilike(pattern, escape="\\"),
                    Stream.description.ilike(pattern, escape="\\"),
                    Stream.name.in_(fields),
                )
            )
        return statement

    @staticmethod
    def _after_cursor(statement: Select[Any], query: StreamQuery) -> Select[Any]:
        if query.cursor is None:
            return statement
        sort, value, name = _decode_cursor(query.cursor)
        if sort != query.sort:
            raise InvalidQueryError("the cursor belongs to another sort order; start again without a cursor")
        descending = sort.startswith("-")
        if sort.lstrip("-") == "name":
            return statement.where(Stream.name < name if descending else Stream.name > name)
        instant = datetime.fromisoformat(value)
        if descending:
            return statement.where(
                or_(Stream.created_at < instant, and_(Stream.created_at == instant, Stream.name < name))
            )
        return statement.where(or_(Stream.created_at > instant, and_(Stream.created_at == instant, Stream.name > name)))

    def detail(self, name: str) -> StreamDetail:
        with self._sessions() as session:
            row = session.get(Stream, name)
            if row is None or row.state == StreamState.PENDING.value:
                raise StreamNotFoundError(name)
            key_versions = _versions(session, row.key_subject)
            value_versions = _versions(session, row.value_subject)
            fields = [
                {
                    "role": item.role,
                    "path": item.path,
                    "name": item.name,
                    "type": item.type,
                    "doc": item.doc,
                    "tags": list(item.tags),
                }
                for item in session.scalars(
                    select(StreamField).where(StreamField.stream == name).order_by(StreamField.role, StreamField.path)
                )
            ]
            consumers = [
                Consumer(grant.consumer_identity, grant.purpose, grant.decided_at)
                for grant in session.scalars(
                    select(AccessGrant).where(
                        AccessGrant.stream == name, AccessGrant.state == GrantState.APPROVED.value
                    )
                )
            ]
            lineage = [
                JobLink(job.name, job.owner_identity, link.direction)
                for link, job in session.execute(
                    select(JobStream, Job).join(Job, Job.name == JobStream.job).where(JobStream.stream == name)
                )
            ]
            stored = StreamDetail(
                summary=_summary(row),
                owner_team=row.owner_team,
                contact=row.contact,
                is_source=row.is_source,
                compatibility=row.compatibility,
                topic_config=dict(row.topic_config),
                data_rules=list(row.data_rules),
                key_subject=row.key_subject,
                value_subject=row.value_subject,
                key_versions=key_versions,
                value_versions=value_versions,
                fields=fields,
                consumers=consumers,
                lineage=lineage,
                live=None,
            )
        # The broker is asked outside the database session: no transaction stays open across Kafka calls.
        live, live_error = self._live(name)
        return replace(stored, live=live, live_error=live_error)

    def _live(self, name: str) -> tuple[TopicFacts | None, str | None]:
        try:
            return topic_facts(self._kafka_admin(), name, self._log_dirs), None
        except KafkaException as exc:
            return None, f"the broker did not answer: {exc.args[0]}"

    def diff(self, name: str, role: str, from_version: int, to_version: int) -> list[FieldChange]:
        with self._sessions() as session:
            row = session.get(Stream, name)
            if row is None or row.state == StreamState.PENDING.value:
                raise StreamNotFoundError(name)
            subject = row.key_subject if role == "key" else row.value_subject
            texts = {}
            for version in (from_version, to_version):
                found = session.scalar(
                    select(SubjectVersion).where(SubjectVersion.subject == subject, SubjectVersion.version == version)
                )
                if found is None:
                    raise VersionNotFoundError(subject, version)
                texts[version] = found.schema.text
        before = schema_tree(subject, parse_schema(texts[from_version]))
        after = schema_tree(subject, parse_schema(texts[to_version]))
        return field_diff(before, after)


def _summary(row: Stream | Row[Any]) -> StreamSummary:
    return StreamSummary(
        name=row.name,
        domain=row.domain,
        description=row.description,
        owner=row.owner_identity,
        state=row.state,
        partitions=row.partitions,
        # The declared tags, as the stream_tags index holds them: once each, sorted.
        tags=sorted(set(row.tags)),
        has_pii=row.has_pii,
        created_at=row.created_at,
        deprecation_message=row.deprecation_message,
        sunset_at=row.sunset_at,
    )


def _versions(session: Session, subject: str) -> list[SchemaVersionInfo]:
    rows = session.scalars(
        select(SubjectVersion).where(SubjectVersion.subject == subject).order_by(SubjectVersion.version)
    )
    return [SchemaVersionInfo(row.version, row.schema_id, row.deleted, row.created_at) for row in rows]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _cursor(sort: str, row: Row[Any]) -> str:
    value = row.created_at.isoformat() if sort.lstrip("-") == "created_at" else row.name
    raw = json.dumps([sort, value, row.name]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort, value, name = json.loads(raw)
        if not all(isinstance(part, str) for part in (sort, value, name)):
            raise ValueError("cursor parts are not strings")
        if sort.lstrip("-") == "created_at":
            datetime.fromisoformat(value)
        return sort, value, name
    except (ValueError, TypeError) as exc:
        raise InvalidQueryError("the cursor is not one this hub gave out; start again without a cursor") from exc
