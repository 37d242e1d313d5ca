"""`GET /identity`: who the hub takes the caller for, so users can check their certificate."""

from fastapi import APIRouter
from pydantic import BaseModel

from headwater.registry.api.deps import CurrentIdentity

router = APIRouter(tags=["identity"])


class IdentityPayload(BaseModel):
    identity: str
    domain: str
    serial: str
    """Hexadecimal, as `headwater ca list` shows it."""
    is_admin: bool


@router.get("/identity")
def read_identity(caller: CurrentIdentity) -> IdentityPayload:
    return IdentityPayload(
        identity=caller.identity, domain=caller.domain, serial=format(caller.serial, "x"), is_admin=caller.is_admin
    )
