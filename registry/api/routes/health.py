"""`GET /health`: whether the hub can serve, check by check (database, broker)."""

from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from headwater.registry.api.deps import HubDep

router = APIRouter(tags=["health"])


class HealthPayload(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, bool]


@router.get("/health", responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": HealthPayload}})
def read_health(hub: HubDep, response: Response) -> HealthPayload:
    checks = hub.readiness()
    if all(checks.values()):
        return HealthPayload(status="ok", checks=checks)
    # Same body as when healthy, so monitors read which check failed; the status code is what
    # load balancers and `wait_until_healthy` look at.
    response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return HealthPayload(status="unavailable", checks=checks)
