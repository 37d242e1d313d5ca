"""Stream names are `<domain>.<entity>`, and the domain belongs to the caller."""

import re

from headwater.policies.context import PolicyContext
from headwater.policies.rule import Params
from headwater.policies.violation import Finding

_PART = r"[a-z][a-z0-9-]*"
_STREAM_NAME = re.compile(rf"{_PART}\.{_PART}")


def check_stream_name_format(context: PolicyContext, params: Params) -> list[Finding]:
    stream = context.stream
    if stream is None:
        return []
    if _STREAM_NAME.fullmatch(stream.name) and stream.name == f"{stream.domain}.{stream.entity}":
        return []
    return [Finding("stream.name", f"Stream name '{stream.name}' is not of the form <domain>.<entity>.")]


def check_stream_domain_owned_by_caller(context: PolicyContext, params: Params) -> list[Finding]:
    stream, requester = context.stream, context.requester
    if stream is None or requester.is_admin or stream.domain == requester.domain:
        return []
    return [
        Finding(
            "stream.domain",
            f"Domain '{stream.domain}' of stream '{stream.name}' is not owned by "
            f"'{requester.identity}' (domain '{requester.domain}').",
        )
    ]
