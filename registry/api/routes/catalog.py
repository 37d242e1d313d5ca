"""The catalog: domains, stream registration, search and detail (`/api/v1/domains`, `/api/v1/streams`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from headwater.registry.api.deps import CurrentIdentity, HubDep
from headwater.registry.api.identifiers import Instant, VersionQuery
from headwater.registry.api.routes.identities import IssuedCertificatePayload, certificate_payload
from headwater.registry.streams.catalog import MAX_LIMIT, StreamDetail, StreamPage, StreamQuery
from headwater.registry.streams.definition import MAX_DATA_RULES, DataRuleSpec, StreamDefinition
from headwater.registry.streams.domains import DomainRecord
from headwater.registry.streams.errors import StreamWriteForbiddenError
from headwater.registry.streams.field_diff import FieldChange
from headwater.registry.streams.jobs import JobRecord

router = APIRouter(tags=["catalog"])

StreamName = Annotated[str, Path(description="`<domain>.<entity>`")]


class DomainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="1-63 of a-z, 0-9 and '-'.")
    owning_team: str = Field(max_length=255)
    contact: str = Field(max_length=255)


class RegisteredStreamPayload(BaseModel):
    name: str
    state: str
    owner: str
    key_schema_id: int
    value_schema_id: int
    owner_certificate: IssuedCertificatePayload | None = Field(
        description="The owner's new certificate and key, when the registration issued them."
    )


@router.post("/domains", status_code=201)
def create_domain(body: DomainRequest, hub: HubDep, caller: CurrentIdentity) -> DomainRecord:
    if not caller.is_admin:
        raise StreamWriteForbiddenError(caller.identity, "create domains (the hub admin does)")
    return hub.domains.create(body.name, body.owning_team, body.contact, caller.identity)


@router.get("/domains")
def list_domains(hub: HubDep, _caller: CurrentIdentity) -> list[DomainRecord]:
    return hub.domains.list()


@router.post("/streams", status_code=201)
def register_stream(body: StreamDefinition, hub: HubDep, caller: CurrentIdentity) -> RegisteredStreamPayload:
    """Register a domain stream: policies, key and value schemas, the compacted topic, the owner's ACLs
    (and certificate, when it has none). A failure undoes every step already done."""
    registered = hub.streams.register(caller.requester, body)
    issued = registered.issued_certificate
    certificate = certificate_payload(issued) if issued is not None else None
    return RegisteredStreamPayload(
        name=registered.name,
        state=registered.state,
        owner=registered.owner,
        key_schema_id=registered.key_schema_id,
        value_schema_id=registered.value_schema_id,
        owner_certificate=certificate,
    )


@router.get("/streams")
async def search_streams(
    hub: HubDep,
    _caller: CurrentIdentity,
    q: Annotated[
        str | None, Query(description="Substring of a name or description, or a whole field name or dotted path.")
    ] = None,
    domain: str | None = None,
    owner: str | None = None,
    state: str | None = None,
    tag: str | None = None,
    has_pii: bool | None = None,
    sort: Literal["name", "-name", "created_at", "-created_at"] = "name",
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> StreamPage:
    query = StreamQuery(q, domain, owner, state, tag, has_pii, sort, cursor, limit)
    # async with the search in the thread pool: FastAPI then checks the returned page on the event
    # loop, where a sync endpoint costs a second thread-pool hop (about 2 ms on a busy 2-core machine).
    return await run_in_threadpool(hub.catalog.search, query)


@router.get("/streams/{name}")
def stream_detail(name: StreamName, hub: HubDep, _caller: CurrentIdentity) -> StreamDetail:
    return hub.catalog.detail(name)


@router.get("/streams/{name}/diff")
def stream_diff(
    name: StreamName,
    hub: HubDep,
    _caller: CurrentIdentity,
    from_version: VersionQuery,
    to_version: VersionQuery,
    role: Literal["key", "value"] = "value",
) -> list[FieldChange]:
    """Fields added, removed or changed between two versions of the stream's key or value schema."""
    return hub.catalog.diff(name, role, from_version, to_version)


class DeprecationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sunset_at: Instant = Field(description="When the stream may be deleted: ISO 8601 with a timezone, in the future.")
    message: str = Field(description="What consumers should use instead; shown in the catalog.")


class DeletedStreamPayload(BaseModel):
    name: str
    state: str
    topic_deleted: bool


@router.post("/streams/{name}/deprecate")
def deprecate_stream(name: StreamName, body: DeprecationRequest, hub: HubDep, caller: CurrentIdentity) -> StreamDetail:
    """The owner (or admin) announces the end: consumers see the message and the sunset date."""
    return hub.lifecycle.deprecate(caller.requester, name, body.sunset_at, body.message)


@router.delete("/streams/{name}")
def delete_stream(
    name: StreamName,
    hub: HubDep,
    caller: CurrentIdentity,
    delete_topic: Annotated[bool, Query(description="Also delete the topic and its records.")] = False,
) -> DeletedStreamPayload:
    """After the sunset: every ACL removed, subjects soft-deleted, the topic kept unless `delete_topic`."""
    return DeletedStreamPayload.model_validate(hub.lifecycle.delete(caller.requester, name, delete_topic))


@router.put("/streams/{name}/data-rules")
def replace_data_rules(
    name: StreamName,
    body: Annotated[list[DataRuleSpec], Body(max_length=MAX_DATA_RULES)],
    hub: HubDep,
    caller: CurrentIdentity,
) -> list[DataRuleSpec]:
    """The owner replaces the stream's data-contract rules (checked against its latest value schema);
    producers opened afterwards enforce them."""
    rules = hub.data_rules.replace(caller.requester, name, [spec.rule() for spec in body])
    return [DataRuleSpec(name=rule.name, expression=rule.expression, message=rule.message) for rule in rules]


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    description: str = ""
    inputs: list[str] = Field(default_factory=list, max_length=1000, description="Streams the job reads.")
    outputs: list[str] = Field(
        default_factory=list, max_length=1000, description="Streams the job writes (owned by the caller)."
    )


@router.post("/jobs", status_code=201)
def register_job(body: JobRequest, hub: HubDep, caller: CurrentIdentity) -> JobRecord:
    """Record a job and its lineage; it belongs to the caller, who must be able to read and write them."""
    return hub.jobs.register(caller.requester, body.name, body.description, body.inputs, body.outputs)


@router.get("/jobs")
def list_jobs(hub: HubDep, _caller: CurrentIdentity) -> list[JobRecord]:
    return hub.jobs.list()
