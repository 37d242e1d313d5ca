"""`GET /api/v1/audit`: the append-only log of changes made or refused, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from headwater.registry.api.deps import CurrentIdentity, HubDep
from headwater.registry.api.identifiers import RowIdQuery
from headwater.registry.services.audit import MAX_PAGE, AuditRecord

router = APIRouter(tags=["audit"])


@router.get("/audit")
def audit_entries(
    hub: HubDep,
    _caller: CurrentIdentity,
    target: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    before_id: RowIdQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> list[AuditRecord]:
    return hub.audit.entries(target=target, action=action, actor=actor, before_id=before_id, limit=limit)
