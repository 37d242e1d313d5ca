"""Read access to streams: request, approve, deny, revoke, list (`/api/v1/streams/{name}/access`, `/api/v1/access`)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from headwater.registry.api.deps import CurrentIdentity, HubDep
from headwater.registry.api.identifiers import RowId
from headwater.registry.streams.access import GrantRecord

router = APIRouter(tags=["access"])


class AccessRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(description="Why the calling identity needs to read the stream (required for PII).")


@router.post("/streams/{name}/access", status_code=201)
def request_access(name: str, body: AccessRequest, hub: HubDep, caller: CurrentIdentity) -> GrantRecord:
    """Ask for read access as the calling identity; the stream's owner approves or denies it."""
    return hub.access.request(caller.requester, name, body.purpose)


@router.get("/access")
def list_access(
    hub: HubDep,
    _caller: CurrentIdentity,
    stream: str | None = None,
    consumer: str | None = None,
    state: str | None = None,
) -> list[GrantRecord]:
    return hub.access.list(stream, consumer, state)


@router.post("/access/{grant_id}/approve")
def approve_access(grant_id: RowId, hub: HubDep, caller: CurrentIdentity) -> GrantRecord:
    """The stream owner (or admin) approves: the consumer may read the topic and use `<identity>.*` groups."""
    return hub.access.approve(caller.requester, grant_id)


@router.post("/access/{grant_id}/deny")
def deny_access(grant_id: RowId, hub: HubDep, caller: CurrentIdentity) -> GrantRecord:
    return hub.access.deny(caller.requester, grant_id)


@router.post("/access/{grant_id}/revoke")
def revoke_access(grant_id: RowId, hub: HubDep, caller: CurrentIdentity) -> GrantRecord:
    """The owner, the admin or the consumer ends an approved grant; the broker refuses the consumer's next fetch."""
    return hub.access.revoke(caller.requester, grant_id)
