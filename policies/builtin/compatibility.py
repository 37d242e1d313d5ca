"""Source streams are FULL_TRANSITIVE, so every version reads and is read by every other."""

from headwater.policies.context import PolicyContext
from headwater.policies.rule import Params
from headwater.policies.violation import Finding


def check_source_stream_full_transitive(context: PolicyContext, params: Params) -> list[Finding]:
    stream = context.stream
    if stream is None or not stream.is_source or stream.compatibility == "FULL_TRANSITIVE":
        return []
    return [
        Finding(
            "stream.compatibility",
            f"Source stream '{stream.name}' has compatibility {stream.compatibility}, not FULL_TRANSITIVE.",
        )
    ]
