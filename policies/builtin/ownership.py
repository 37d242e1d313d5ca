"""Every stream names an owner team and a contact."""

from headwater.policies.context import PolicyContext
from headwater.policies.rule import Params
from headwater.policies.violation import Finding


def check_owner_team_and_contact_present(context: PolicyContext, params: Params) -> list[Finding]:
    stream = context.stream
    if stream is None:
        return []
    return [
        Finding(f"stream.{attribute}", f"Stream '{stream.name}' has no {attribute.replace('_', ' ')}.")
        for attribute in ("owner_team", "contact")
        if not getattr(stream, attribute).strip()
    ]
